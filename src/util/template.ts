/** Default body for `send --count`. */
export const DEFAULT_TEMPLATE = "task {i}";

/** Renders a task body: every `{i}` becomes the task's index (starting at 1). */
export function renderTemplate(template: string, index: number): string {
  return compileTemplate(template)(index);
}

/** `renderTemplate` for one template, split once: `send --count` renders it for every task. */
export function compileTemplate(template: string): (index: number) => string {
  const parts = template.split("{i}");
  if (parts.length === 1) return () => template;
  if (parts.length === 2) {
    const [before, after] = parts as [string, string];
    return (index) => before + index + after;
  }
  return (index) => parts.join(String(index));
}
