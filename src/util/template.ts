/** Default body for `send --count`. */
export const DEFAULT_TEMPLATE = "task {i}";

/** Renders a task body: every `{i}` becomes the task's index (starting at 1). */
export function renderTemplate(template: string, index: number): string {
  return template.includes("{i}") ? template.replaceAll("{i}", String(index)) : template;
}
