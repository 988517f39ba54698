// The table scripts/reports-cost and scripts/heartbeat-cost print: lines "p<prefetch> <off> <on>"
// (tasks/s of one round each) to each side's median and the median on/off ratio, with its spread.
// Usage: bun scripts/minimal/pair-table.ts RESULTS_FILE
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const rows = new Map<string, Array<[number, number]>>();
for (const line of (await Bun.file(process.argv[2] ?? "").text()).split("\n")) {
  const [key, off, on] = line.trim().split(/\s+/);
  if (!key) continue;
  rows.set(key, [...(rows.get(key) ?? []), [Number(off), Number(on)]]);
}
console.log("| prefetch | off median | on median | on/off | per round | target |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const [key, pairs] of rows) {
  const ratios = pairs.map(([off, on]) => on / off);
  const spread = `${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}`;
  console.log(
    `| ${key.slice(1)} | ${median(pairs.map((p) => p[0])).toFixed(0)} tasks/s | ${median(pairs.map((p) => p[1])).toFixed(0)} tasks/s | ${median(ratios).toFixed(3)} | ${spread} | >= 0.99 |`,
  );
}
export {};
