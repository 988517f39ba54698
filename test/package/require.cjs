// CommonJS users: require() of the ESM package (Node 22.12+ and 24 load ES modules synchronously);
// it must give what import gives.
const taskq = require("taskq");
void import("taskq").then((esm) => {
  const keys = (m) =>
    Object.keys(m)
      .filter((k) => k !== "default" && k !== "module.exports")
      .sort();
  console.log(
    JSON.stringify({
      exports: keys(taskq),
      same: JSON.stringify(keys(taskq)) === JSON.stringify(keys(esm)),
      send: typeof taskq.send,
      work: typeof taskq.work,
    }),
  );
});
