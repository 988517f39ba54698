import { afterAll } from "bun:test";
import { downSuiteCluster } from "./cluster.ts";

// Preloaded (bunfig.toml): runs once after every test file.
afterAll(() => downSuiteCluster(), 120_000);
