import { afterAll } from "bun:test";
import { downSuiteCluster } from "./cluster.ts";
import { downSharedNodes } from "./versions.ts";

// Preloaded (bunfig.toml): runs once after every test file (of the bun test process: a shard).
afterAll(() => Promise.all([downSuiteCluster(), downSharedNodes()]), 120_000);
