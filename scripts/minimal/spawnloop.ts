// The floor for `taskq work -- CMD`: a bare loop in bun that runs CMD N times, one after the
// other, writing a small body to its stdin each time. Prints {"impl":"spawn-loop","tasks":N,"ms":..}.
// Usage: bun scripts/minimal/spawnloop.ts N CMD [ARGS...]
export {};

const [count, ...cmd] = process.argv.slice(2);
const n = Number(count);
if (!Number.isInteger(n) || n < 1 || cmd.length === 0) {
  console.error("usage: spawnloop.ts N CMD [ARGS...]");
  process.exit(2);
}
const started = performance.now();
for (let i = 1; i <= n; i++) {
  const proc = Bun.spawn(cmd, { stdin: Buffer.from(`task ${i}`), stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) throw new Error(`${cmd[0]} failed`);
}
const ms = performance.now() - started;
console.log(JSON.stringify({ impl: "spawn-loop", tasks: n, ms: Math.round(ms * 100) / 100 }));
