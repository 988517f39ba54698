// Writes LINES lines of 1,000 bytes through SyncLineWriter to stdout, after touching process.stdout
// (which makes Bun set fd 1 non-blocking, as in `taskq work --json`). Says "done <epoch ms>" on stderr.
import { SyncLineWriter } from "../../../src/util/lineWriter.ts";

process.stdout.write("");
const lines = Number(process.argv[2] ?? "2000");
const out = new SyncLineWriter();
const line = "x".repeat(999);
for (let i = 0; i < lines; i++) out.write(line);
console.error(`done ${Date.now()}`);
