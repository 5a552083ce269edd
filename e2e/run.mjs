// Starts the stack (a Redis Cluster and three nodes from the built binary,
// see stack/main.go), runs the node:test suite against it, and stops the
// stack. Tests reach node 0 through KUZZLE_HOST/KUZZLE_PORT and the stack's
// fault-control server through SC_E2E_CONTROL (its port).
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const stack = spawn("go", ["run", "./stack"], { stdio: ["pipe", "pipe", "inherit"] });
let control = 0;
const port = await new Promise((resolve, reject) => {
  const rl = createInterface({ input: stack.stdout });
  rl.on("line", (line) => {
    const c = /^CONTROL (\d+)$/.exec(line);
    if (c) control = Number(c[1]);
    const m = /^READY (\d+)$/.exec(line);
    if (m) resolve(Number(m[1]));
  });
  stack.on("exit", (code) => reject(new Error(`stack exited with ${code}`)));
});

const tests = spawn(process.execPath, ["--test", "--test-concurrency=1", "test/"], {
  stdio: "inherit",
  env: { ...process.env, KUZZLE_HOST: "127.0.0.1", KUZZLE_PORT: String(port), SC_E2E_CONTROL: String(control) },
});
const code = await new Promise((resolve) => tests.on("exit", (c) => resolve(c ?? 1)));
stack.stdin.end();
if (stack.exitCode === null) {
  await new Promise((resolve) => stack.on("exit", resolve));
}
process.exit(code);
