/**
 * Process groups told SIGTERM on a timeout whose SIGKILL (after --kill-after) is still to come.
 * If taskq exits first, they get it then: what ignored the SIGTERM must not outlive taskq.
 */
const awaitingKill = new Set<number>();
let killOnExit = false;

export function scheduleGroupKill(pid: number, ms: number): ReturnType<typeof setTimeout> {
  awaitingKill.add(pid);
  if (!killOnExit) {
    killOnExit = true;
    process.on("exit", () => {
      for (const group of awaitingKill) killGroup(group);
    });
  }
  const timer = setTimeout(() => {
    awaitingKill.delete(pid);
    killGroup(pid);
  }, ms);
  timer.unref();
  return timer;
}

export function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {} // the group is gone
}
