// Starts the stack (a Redis Cluster and one node from the built binary, see
// stack/main.go), runs the node:test suite against it, and stops the stack.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const stack = spawn("go", ["run", "./stack"], { stdio: ["pipe", "pipe", "inherit"] });
const port = await new Promise((resolve, reject) => {
  const rl = createInterface({ input: stack.stdout });
  rl.on("line", (line) => {
    const m = /^READY (\d+)$/.exec(line);
    if (m) resolve(Number(m[1]));
  });
  stack.on("exit", (code) => reject(new Error(`stack exited with ${code}`)));
});

const tests = spawn(process.execPath, ["--test", "--test-concurrency=1", "test/"], {
  stdio: "inherit",
  env: { ...process.env, KUZZLE_HOST: "127.0.0.1", KUZZLE_PORT: String(port) },
});
const code = await new Promise((resolve) => tests.on("exit", (c) => resolve(c ?? 1)));
stack.stdin.end();
if (stack.exitCode === null) {
  await new Promise((resolve) => stack.on("exit", resolve));
}
process.exit(code);
