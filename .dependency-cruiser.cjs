/**
 * The import rules of src/ (docs/architecture.md draws them), checked in the suite by
 * test/unit/architecture.test.ts: no cycle anywhere, amqplib only under src/core, and inside
 * src/core each folder imports only the folders below it:
 *   task.ts, headers.ts < broker < topology < publish < failures < worker;  admin < worker's rank
 *   (admin may import broker, topology, publish and failures, not worker).
 */
const CORE = "^src/core/";
/** Folders of src/core, lowest first; each may import only those before it. */
const LAYERS = ["broker", "topology", "publish", "failures", "worker"];
const higher = (i) => LAYERS.slice(i + 1);

/*
 * Run with Bun (test/unit/architecture.test.ts does): dependency-cruiser refuses Node 20. It parses
 * TypeScript with swc (@swc/core): it does not support TypeScript 7's compiler yet and says so on
 * every run ("missing-tsc-transpiler"); that line is expected and harmless, swc reads every file.
 */
const KNOWN = [...LAYERS, "admin"];

module.exports = {
  forbidden: [
    {
      name: "core-folder-has-a-rank",
      severity: "error",
      comment: "a new folder of src/core needs its place among the layers (add it to LAYERS and docs/architecture.md)",
      from: { path: `${CORE}(?!(${KNOWN.join("|")})/)[^/]+/` },
      to: {},
    },
    {
      name: "amqplib-public-api-only",
      severity: "error",
      comment: "amqplib's internals are reached only through src/core/broker/amqplib.ts, by duck typing",
      from: {},
      to: { path: "node_modules/amqplib/lib/" },
    },
    {
      name: "amqplib-internals-stay-in-core",
      severity: "error",
      comment: "src/core/broker/amqplib.ts is the core's own seam, not an API",
      from: { path: "^src/", pathNot: CORE },
      to: { path: "^src/core/broker/amqplib\\.ts$" },
    },
    {
      name: "core-prints-nothing",
      severity: "error",
      comment: "core never imports what writes to a terminal",
      from: { path: CORE },
      to: { path: "^src/util/(progress|lineWriter)\\.ts$" },
    },
    {
      name: "errors-is-a-leaf",
      severity: "error",
      comment: "errors.ts is below everything",
      from: { path: "^src/errors\\.ts$" },
      to: { path: "^src/" },
    },
    {
      name: "no-cycle",
      severity: "error",
      comment: "an import cycle: split the shared part into a lower module",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "amqplib-only-in-core",
      severity: "error",
      comment: "src/core is the only place that talks to amqplib",
      from: { path: "^src/", pathNot: CORE },
      to: { path: "node_modules/amqplib" },
    },
    {
      name: "core-imports-no-caller",
      severity: "error",
      comment: "core never imports commands, bench, handlers, metrics or anything that prints",
      from: { path: CORE },
      to: { path: "^src/(commands|bench|handlers|metrics|program|cli|index)" },
    },
    {
      name: "util-is-pure",
      severity: "error",
      comment: "src/util holds pure helpers: it imports only itself",
      from: { path: "^src/util/" },
      to: { path: "^src/", pathNot: "^src/(util/|errors\\.ts$)" },
    },
    {
      name: "core-root-is-lowest",
      severity: "error",
      comment: "task.ts and headers.ts sit below every folder of core",
      from: { path: `${CORE}[^/]+\\.ts$` },
      to: { path: `${CORE}(${[...LAYERS, "admin"].join("|")})/` },
    },
    ...LAYERS.slice(0, -1).map((layer, i) => ({
      name: `${layer}-below-${higher(i).join("-")}`,
      severity: "error",
      comment: `core/${layer} sits below ${higher(i).join(", ")} and admin`,
      from: { path: `${CORE}${layer}/` },
      to: { path: `${CORE}(${[...higher(i), "admin"].join("|")})/` },
    })),
    {
      name: "worker-below-admin",
      severity: "error",
      comment: "core/worker and core/admin are side by side: neither imports the other",
      from: { path: `${CORE}worker/` },
      to: { path: `${CORE}admin/` },
    },
    {
      name: "admin-beside-worker",
      severity: "error",
      comment: "core/admin does not consume: it never imports core/worker",
      from: { path: `${CORE}admin/` },
      to: { path: `${CORE}worker/` },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    parser: "swc",
  },
};
