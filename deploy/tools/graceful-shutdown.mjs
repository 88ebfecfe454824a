// Drives deploy/test-graceful-shutdown.sh: puts the broker under load on loopback, sends it SIGTERM
// mid-load, and checks that every request sent got its answer. Bounded: every request has a timeout,
// the whole run a deadline.
//
//   node graceful-shutdown.mjs API_URL MANAGEMENT_URL STANDIN_URL BEARER_FILE BROKER_PID DELAY_MS TIMEOUT_MS COLD_ENV...
//
// Timeline (t = SIGTERM; Azure AD takes MINT_MS to answer a token request):
//   before t   16 connections (keep-alive, like a caller's HTTP client) ask for a warm environment's
//              token back to back; the first half of COLD_ENV is asked for twice each, so at t one
//              request per cold environment is in flight and one waits behind it (single flight)
//   t          SIGTERM; readiness must turn DOWN within the delay, while every request is served
//   t..t+1s    the warm loops go on, then stop; the cold requests of t end: a lull of a few seconds,
//              as when callers pause
//   t+DELAY-1s late callers (Kubernetes takes a few seconds to stop routing to a terminating pod):
//              16 more warm requests, and the other half of COLD_ENV twice each, whose mints are
//              still in flight when the delay ends. Without the delay the broker closes as soon as
//              the requests of t are done, in the lull, and refuses these.
//   after      every request got its token; the broker exits within DELAY + TIMEOUT
import { readFileSync } from "node:fs";
import http from "node:http";

const [api, management, standin, bearerFile, pidText, delayText, timeoutText, ...cold] = process.argv.slice(2);
const pid = Number(pidText);
const delayMs = Number(delayText);
const timeoutMs = Number(timeoutText);
const bearer = readFileSync(bearerFile, "utf8").trim();
const MINT_MS = 2500; // a cold request sent 2 s before the delay ends outlives it
const started = Date.now();
const since = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function request(method, url, { auth = true, timeout = 15000 } = {}) {
  return new Promise((resolve) => {
    const sent = Date.now();
    const req = http.request(
      url,
      { method, agent, timeout, headers: auth ? { authorization: `Bearer ${bearer}` } : {} },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode, body, sent, ended: Date.now() }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ status: 0, error: e.code ?? e.message, sent, ended: Date.now() }));
    req.end();
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = () => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const problems = [];
const warmUrl = `${api}/v1/environments/warm/token`;
const first = await request("POST", warmUrl);
if (first.status !== 200) {
  console.log(`the warm environment gave no token before the test: ${first.status} ${first.error ?? first.body.slice(0, 200)}`);
  process.exit(1);
}
await request("GET", `${standin}/control/token-delay?${MINT_MS}`, { auth: false });

let stopSendingAt = Infinity;
const warm = [];
const loops = Array.from({ length: 16 }, async () => {
  while (Date.now() < stopSendingAt) warm.push(await request("POST", warmUrl));
});
const askTwice = (envs) => envs.flatMap((env) => [0, 1].map(() => request("POST", `${api}/v1/environments/${env}/token`)));
const half = Math.ceil(cold.length / 2);
await sleep(700);
const atTerm = askTwice(cold.slice(0, half));
await sleep(1500); // the cold requests are in, their mints in flight until about t + 1 s
const termAt = Date.now();
process.kill(pid, "SIGTERM");
stopSendingAt = termAt + 1000;
console.log(`${since()}: SIGTERM sent; warm load continues 1000 ms, ${atTerm.length} cold requests in flight`);
const late = sleep(delayMs - 1000).then(() =>
  Promise.all([...askTwice(cold.slice(half)), ...Array.from({ length: 16 }, () => request("POST", warmUrl))]),
);

// readiness during the delay
let readinessDown = false;
let readinessUpAfterTerm = 0;
while (Date.now() < termAt + delayMs - 500) {
  const ready = await request("GET", `${management}/q/health/ready`, { auth: false, timeout: 2000 });
  if (ready.status === 503) readinessDown = true;
  else if (ready.status === 200) readinessUpAfterTerm++;
  await sleep(200);
}
await Promise.all(loops);
const lateDone = await late;
const coldDone = [...(await Promise.all(atTerm)), ...lateDone.slice(0, 2 * (cold.length - half))];
warm.push(...lateDone.slice(2 * (cold.length - half)));
const deadline = termAt + delayMs + timeoutMs + 5000;
while (alive() && Date.now() < deadline) await sleep(100);
const exitedAfter = Date.now() - termAt;

const duringDrain = warm.filter((r) => r.sent >= termAt);
const failed = [...warm, ...coldDone].filter((r) => r.status !== 200);
for (const r of failed.slice(0, 5)) {
  problems.push(`a request sent at +${r.sent - termAt} ms got ${r.status || r.error}${r.body ? ": " + r.body.slice(0, 120) : ""}`);
}
if (failed.length > 5) problems.push(`... ${failed.length} requests in all got no token`);
if (duringDrain.length < 16) problems.push("too few requests were sent during the shutdown delay: the test proves nothing");
const coldAfterClose = coldDone.filter((r) => r.ended > termAt + delayMs).length;
if (coldAfterClose === 0) problems.push("no cold request was still in flight when the delay ended: the test proves nothing");
if (!readinessDown) problems.push(`readiness never turned DOWN during the ${delayMs} ms delay (UP ${readinessUpAfterTerm} times)`);
if (alive()) problems.push(`the broker still runs ${exitedAfter} ms after SIGTERM`);

console.log(
  `${warm.length} warm requests (${duringDrain.length} sent during the delay), ${coldDone.length} cold requests` +
    ` (${coldAfterClose} answered after the delay ended, up to +${Math.max(...coldDone.map((r) => r.ended - termAt))} ms);` +
    ` ${failed.length} without a token; readiness DOWN during the delay: ${readinessDown}; exited ${exitedAfter} ms after SIGTERM`,
);
for (const p of problems) console.log(`  ${p}`);
agent.destroy();
process.exit(problems.length ? 1 : 0);
