import sdk from "kuzzle-sdk";

export const { Kuzzle, WebSocket, Http } = sdk;
export const host = process.env.KUZZLE_HOST || "127.0.0.1";
export const port = Number(process.env.KUZZLE_PORT || 7512);

export async function connectWS() {
  const k = new Kuzzle(new WebSocket(host, { port }));
  await k.connect();
  return k;
}

export async function connectHttp() {
  const k = new Kuzzle(new Http(host, { port }));
  await k.connect();
  return k;
}

export function uniqueName(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

// Collects notifications and waits for them.
export class Inbox {
  constructor() {
    this.items = [];
    this.waiters = [];
  }

  push = (n) => {
    this.items.push(n);
    for (const w of this.waiters.splice(0)) w();
  };

  async next(timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no notification within timeout");
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.items.shift();
  }
}
