// Browser tests of ward's dashboard: a real headless Chromium (Debian's
// /usr/bin/chromium through playwright-core, nothing downloaded) against
// a real `ward server`. Started by crates/ward-cli/tests/browser.rs, which
// starts the server, prepares users and an agent token, and passes them in
// the environment. PHASE=main runs Done-when 1-3, 5, 6 and the first half
// of 4; PHASE=broken (after the Rust test edited an audit row) checks that
// the audit page shows the chain as broken.
//
// Prints one line per check and "N passed, N failed" last; exits 1 on any
// failure.

import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through cargo test --test browser)`);
  return v;
};
const BASE = env("WARD_URL");
// A second `ward server` process on the same database and master key.
const SECOND = env("SECOND_URL");
const SHOTS = env("SCREENSHOT_DIR");
const PHASE = process.env.PHASE || "main";
const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`FAILED - ${name}\n  ${String(e && e.stack || e).split("\n").join("\n  ")}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// The JSON API, as a service or a CLI uses it.
async function api(token, method, route, body) {
  const r = await fetch(BASE + route, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}
async function apiSession(user, password) {
  const r = await api(null, "POST", "/v1/login", { username: user, password });
  assert(r.status === 200, `API login as ${user}: ${r.status}`);
  return r.body.token;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});

// A signed-in browser tab; every CSP violation it reports fails the run.
const cspViolations = [];
async function signIn(user, password, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await page.goto(`${BASE}/ui/login`);
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/ui/tokens");
  return page;
}

// axe-core: no serious or critical violation. Evaluated over the DevTools
// protocol, which the page's CSP does not govern (it is not page script).
const axeFailures = [];
async function accessible(page, name) {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => await globalThis.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of bad) axeFailures.push(`${name}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

// Screenshots at 1280 and 400 px wide, full page.
async function screenshots(page, name) {
  for (const width of [1280, 400]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
    if (width === 400) {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 1, `${name} scrolls sideways at 400 px by ${overflow}px`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

// Visits a page, checks its status, its accessibility, and takes its pictures.
async function visit(page, route, name, status = 200) {
  const response = await page.goto(BASE + route);
  assert(response.status() === status, `${route}: status ${response.status()}, wanted ${status}`);
  await accessible(page, name);
  await screenshots(page, name);
  return response;
}

if (PHASE === "nodes") {
  // Point 1 of the last session's leftovers: the shown-once token is not
  // kept by one process. The form posts to the first process; the
  // redirect is followed on the second, as a load balancer without sticky
  // sessions may send it.
  const [user, userPw] = [env("NORMAL_USER"), env("NORMAL_PASSWORD")];
  const dave = await signIn(user, userPw);
  const daveApi = await apiSession(user, userPw);
  await check("1. a token created on one server process is shown by another (no sticky sessions)", async () => {
    await dave.goto(`${BASE}/ui/tokens/new`);
    const csrf = await dave.locator("input[name=csrf]").first().inputValue();
    const posted = await dave.context().request.post(`${BASE}/ui/tokens`, {
      form: { csrf, name: "across-nodes", type: "pipeline", ttl: "7d" },
      maxRedirects: 0,
    });
    assert(posted.status() === 303, `create: ${posted.status()}`);
    const shownAt = posted.headers()["location"];
    const response = await dave.goto(SECOND + shownAt);
    assert(response.status() === 200, `shown by the second process: ${response.status()}`);
    assert(response.headers()["cache-control"] === "no-store", "no-store on the second process");
    const token = await dave.getByLabel(/Token across-nodes/).inputValue();
    const verdict = await api(daveApi, "POST", "/v1/verify", { token });
    assert(verdict.body.code === "VALID", `verify: ${JSON.stringify(verdict.body)}`);
    const cookies = await dave.context().cookies();
    assert(!cookies.some((c) => c.name === "ward_shown" && c.value), "the sealed cookie is cleared once shown");
    const again = await dave.reload();
    assert(again.status() === 410, `reload: ${again.status()}`);
    assert(!(await dave.content()).includes(token), "the token is still on the page after a reload");
    await dave.goto(BASE + shownAt);
    assert(!(await dave.content()).includes(token), "the first process shows it after the second did");
  });
} else if (PHASE === "main") {
  fs.mkdirSync(SHOTS, { recursive: true });
  const [admin, adminPw] = [env("ADMIN_USER"), env("ADMIN_PASSWORD")];
  const [second, secondPw] = [env("SECOND_ADMIN"), env("SECOND_PASSWORD")];
  const [user, userPw] = [env("NORMAL_USER"), env("NORMAL_PASSWORD")];
  const agentToken = env("AGENT_TOKEN");
  const agent = env("AGENT_NAME");

  await check("the sign-in page is accessible and pictured", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await visit(page, "/ui/login", "login");
    assert(response.headers()["content-security-policy"] === CSP, "CSP on the sign-in page");
    await context.close();
  });

  // Done-when 1.
  const dave = await signIn(user, userPw);
  const daveApi = await apiSession(user, userPw);
  let created = "";
  await check("1. a pipeline token with two scopes is shown once, verifies, and is gone on reload", async () => {
    await visit(dave, "/ui/tokens/new", "token-new");
    await dave.getByLabel("Name").fill("deploy-pipeline");
    await dave.getByLabel("Type").selectOption("pipeline");
    await dave.getByRole("checkbox", { name: /system:read/ }).check();
    await dave.getByRole("checkbox", { name: /network:read/ }).check();
    const [response] = await Promise.all([
      dave.waitForResponse((r) => r.url().includes("/ui/shown/")),
      dave.getByRole("button", { name: "Create token" }).click(),
    ]);
    const headers = response.headers();
    assert(headers["cache-control"] === "no-store", `shown-once page Cache-Control: ${headers["cache-control"]}`);
    assert(headers["content-security-policy"] === CSP, "shown-once page CSP");
    created = await dave.getByLabel(/Token deploy-pipeline/).inputValue();
    assert(/^ward_p_/.test(created), `a pipeline token on the page: ${created.slice(0, 7)}…`);
    // The copy button is hidden until ward.js (allowed by the CSP) shows it.
    await dave.locator('button[data-copy="token"]').waitFor({ state: "visible", timeout: 10000 });
    await accessible(dave, "token-shown");
    await screenshots(dave, "token-shown");
    const verdict = await api(daveApi, "POST", "/v1/verify", { token: created });
    assert(verdict.body.code === "VALID", `verify: ${JSON.stringify(verdict.body)}`);
    assert(JSON.stringify(verdict.body.scopes) === JSON.stringify(["network:read", "system:read"]), `scopes ${verdict.body.scopes}`);
    const again = await dave.reload();
    assert(again.status() === 410, `reload: ${again.status()}`);
    assert(!(await dave.content()).includes(created), "the token is still on the page after a reload");
  });

  await check("1. the token is revoked from the table and the API answers REVOKED", async () => {
    await visit(dave, "/ui/tokens", "tokens");
    const times = await dave.locator("time").first().getAttribute("title");
    assert(times && times.endsWith("UTC"), `local time with UTC on hover (ward.js ran): ${times}`);
    const row = dave.getByRole("row", { name: /deploy-pipeline/ });
    await row.getByRole("link", { name: /Revoke/ }).click();
    await accessible(dave, "token-revoke");
    await screenshots(dave, "token-revoke");
    assert((await dave.content()).includes("deploy-pipeline"), "the confirmation names the token");
    await dave.getByRole("button", { name: /Revoke deploy-pipeline/ }).click();
    await dave.waitForURL("**/ui/tokens?done=revoked");
    const verdict = await api(daveApi, "POST", "/v1/verify", { token: created });
    assert(verdict.body.code === "REVOKED", `verify after revoke: ${verdict.body.code}`);
    await visit(dave, "/ui/expiring?days=30", "expiring");
    await visit(dave, `/ui/tokens?status=revoked&q=deploy`, "tokens-filtered");
    assert(await dave.getByRole("row", { name: /deploy-pipeline/ }).isVisible(), "filter by status and name");
  });

  await check("a sort link and the filter form update the table in place, and work without JavaScript", async () => {
    await dave.goto(`${BASE}/ui/tokens?type=pipeline`);
    await dave.evaluate(() => { window.wardMarker = "same document"; });
    await dave.locator('th[data-column="created"] a').click();
    await dave.waitForURL(/sort=created_asc/);
    await dave.locator('th[data-column="created"][aria-sort="ascending"]').waitFor();
    assert(await dave.evaluate(() => window.wardMarker) === "same document", "the sort loaded a whole new page");
    const focused = await dave.evaluate(() => document.activeElement.closest("th")?.dataset.column);
    assert(focused === "created", `focus stays on the heading: ${focused}`);
    const names = await dave.locator("tbody tr td:first-child").allInnerTexts();
    assert(names[0].startsWith("deploy-pipeline"), `oldest first: ${names.join(", ")}`);
    await dave.getByLabel("Name contains").fill("nothing-is-called-this");
    await dave.getByRole("button", { name: "Filter" }).click();
    await dave.waitForURL(/q=nothing-is-called-this/);
    await dave.getByText("No tokens match.").waitFor();
    assert(await dave.evaluate(() => window.wardMarker) === "same document", "the filter loaded a whole new page");
    await dave.goBack();
    await dave.waitForURL(/sort=created_asc$/);
    await dave.getByRole("row", { name: /deploy-pipeline/ }).waitFor();

    const plain = await signIn(user, userPw, { javaScriptEnabled: false });
    await plain.goto(`${BASE}/ui/tokens?type=pipeline`);
    await plain.locator('th[data-column="created"] a').click();
    await plain.waitForURL(/sort=created_asc/);
    assert(await plain.locator('th[data-column="created"][aria-sort="ascending"]').count() === 1, "no-JS sort");
    await plain.context().close();
  });

  // Done-when 2.
  await check("2. a normal user gets 403 on another user's tokens, users, approvals and audit", async () => {
    for (const [route, name] of [[`/ui/users/${admin}/tokens`, "forbidden-user-tokens"], ["/ui/users", "forbidden-users"],
      ["/ui/approvals", "forbidden-approvals"], ["/ui/audit", "forbidden-audit"]]) {
      await visit(dave, route, name, 403);
      const html = await dave.content();
      assert(!html.includes("admin-secret-token"), `${route} leaks another user's token name`);
      assert(!html.includes(agent), `${route} leaks the agent`);
    }
  });

  // Done-when 5 (CSRF): a form whose token is removed, and a bare POST.
  await check("5. every state-changing request without the CSRF token is refused", async () => {
    await dave.goto(`${BASE}/ui/tokens/new`);
    await dave.getByLabel("Name").fill("forged");
    await dave.evaluate(() => document.querySelectorAll("input[name=csrf]").forEach((e) => e.remove()));
    const [response] = await Promise.all([
      dave.waitForResponse((r) => r.request().method() === "POST"),
      dave.getByRole("button", { name: "Create token" }).click(),
    ]);
    assert(response.status() === 403, `form without its token: ${response.status()}`);
    // Forms built in the page (as another site's page would post them,
    // but same-origin, so the session cookie goes along) without a token.
    for (const route of ["/ui/tokens", "/ui/logout", "/ui/users", "/ui/approvals/apr_x/decide", "/ui/agents/revoke", "/ui/keys/rotate"]) {
      const [r] = await Promise.all([
        dave.waitForNavigation(),
        dave.evaluate((to) => {
          const f = document.createElement("form");
          f.method = "post";
          f.action = to;
          for (const [k, v] of [["name", "forged"], ["type", "pipeline"]]) {
            const i = document.createElement("input");
            i.type = "hidden"; i.name = k; i.value = v;
            f.appendChild(i);
          }
          document.body.appendChild(f);
          f.submit();
        }, route),
      ]);
      assert(r.status() === 403, `${route} without a token: ${r.status()}`);
    }
    const listed = await api(daveApi, "GET", "/v1/tokens");
    assert(!listed.body.tokens.some((t) => t.name === "forged"), "a forged form created a token");
    const me = await api(daveApi, "GET", "/v1/whoami");
    assert(me.status === 200, "the session survived a forged logout");
  });

  // Done-when 3.
  const minter = await signIn(admin, adminPw);
  const carol = await signIn(second, secondPw);
  await check("3. an agent's critical operation is approved by a second admin in the browser, allowed once", async () => {
    const asked = await api(agentToken, "POST", "/v1/authorize", { operation: "install_updates" });
    assert(asked.body.decision === "approval_required", `first ask: ${JSON.stringify(asked.body)}`);
    const id = asked.body.approval_id;
    // The minter sees the request and, on its row, why it may not decide it: no buttons.
    await visit(minter, "/ui/approvals", "approvals");
    const row = minter.locator(`tr[data-approval-id="${id}"]`);
    assert(await row.isVisible(), "the request is in the queue");
    const text = await row.innerText();
    assert(text.includes("install_updates") && text.includes("critical") && text.includes(agent), `row: ${text}`);
    assert(/you minted the agent that asked/.test(text), `the four-eyes reason on the row: ${text}`);
    assert(await row.getByRole("button", { name: /Approve|Deny/ }).count() === 0, "the minter is offered buttons");
    await accessible(minter, "approvals-four-eyes");
    await screenshots(minter, "approvals-four-eyes");
    // The second admin may decide it, and approves.
    await carol.goto(`${BASE}/ui/approvals`);
    const theirs = carol.locator(`tr[data-approval-id="${id}"]`);
    assert(await theirs.getAttribute("data-may-decide") === "yes", "the second admin may decide");
    await theirs.getByLabel("Reason (optional)").fill("patch window");
    await theirs.getByRole("button", { name: /Approve/ }).click();
    await carol.waitForURL("**/ui/approvals?done=approved");
    const first = await api(agentToken, "POST", "/v1/authorize", { operation: "install_updates", approval_id: id });
    assert(first.body.decision === "allow", `retry: ${JSON.stringify(first.body)}`);
    const second = await api(agentToken, "POST", "/v1/authorize", { operation: "install_updates", approval_id: id });
    assert(second.body.decision !== "allow", `a second retry: ${JSON.stringify(second.body)}`);
  });

  // Done-when 4, first half.
  await check("4. the audit page filters by risk and subject and shows the chain verified", async () => {
    await visit(minter, "/ui/audit", "audit");
    await minter.getByLabel("Subject").fill(agent);
    await minter.getByLabel("Risk").selectOption("critical");
    await minter.getByRole("button", { name: "Filter" }).click();
    await minter.waitForURL(/risk=critical/);
    await minter.locator('th[data-column="time"]').waitFor();
    const rows = minter.locator("tbody tr");
    const n = await rows.count();
    assert(n > 0, "no critical events of the agent");
    for (let i = 0; i < n; i += 1) {
      const t = await rows.nth(i).innerText();
      assert(t.includes(agent) && t.includes("critical"), `a row outside the filter: ${t}`);
    }
    assert(await minter.locator('[data-chain="verified"]').isVisible(), "the chain shows as verified");
    await accessible(minter, "audit-filtered");
    await screenshots(minter, "audit-filtered");
    const exported = await minter.request.get(BASE + "/ui/audit/export?risk=critical&subject=" + encodeURIComponent(agent));
    const lines = (await exported.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert(lines.length === n || lines.length > n, `export has ${lines.length} lines for ${n} rows`);
    assert(lines.every((e) => e.risk_level === "critical" && e.subject === agent), "export outside the filter");
  });

  await check("the admin pages are accessible and pictured", async () => {
    for (const [route, name] of [["/ui/users", "users"], ["/ui/service-users", "service-users"],
      ["/ui/agents", "agents"], [`/ui/users/${user}/tokens`, "user-tokens"]]) {
      await visit(minter, route, name);
    }
    await minter.goto(`${BASE}/ui/tokens`);
    const row = minter.getByRole("row", { name: /admin-secret-token/ });
    await row.getByRole("link", { name: /Rotate/ }).click();
    await accessible(minter, "token-rotate");
    await screenshots(minter, "token-rotate");
    await visit(minter, "/ui/expiring?days=30", "expiring-admin");
    assert(await minter.getByRole("columnheader", { name: "Owner" }).count() === 1, "an admin's expiring list has owners");
  });

  await check("5. destructive admin actions ask first on a page that names what they end", async () => {
    const victim = env("DELETE_USER");
    await minter.goto(`${BASE}/ui/users`);
    await minter.getByRole("row", { name: new RegExp(victim) }).getByRole("link", { name: /Delete/ }).click();
    await minter.waitForURL(`**/ui/users/${victim}/delete`);
    assert((await minter.locator("h1").innerText()).includes(victim), "the page names the user");
    await accessible(minter, "user-delete");
    await screenshots(minter, "user-delete");
    await minter.getByRole("button", { name: `Delete ${victim}` }).click();
    await minter.waitForURL("**/ui/users?done=deleted");
    const gone = await api(null, "POST", "/v1/login", { username: victim, password: env("DELETE_PASSWORD") });
    assert(gone.status === 401, `the deleted user signs in: ${gone.status}`);

    await minter.goto(`${BASE}/ui/users`);
    await minter.getByRole("row", { name: new RegExp(user) }).getByRole("link", { name: /Revoke all tokens/ }).click();
    await minter.waitForURL(`**/ui/users/${user}/revoke-tokens`);
    assert((await minter.locator("h1").innerText()).includes(user), "the page names the user");
    await accessible(minter, "user-revoke-tokens");
    await screenshots(minter, "user-revoke-tokens");
    await minter.getByRole("link", { name: "Cancel" }).click();
    await minter.waitForURL("**/ui/users");

    await minter.goto(`${BASE}/ui/agents`);
    // The row's link ("Retire key_…"), not the "Retired" column's sort link.
    await minter.getByRole("link", { name: /^Retire key_/ }).first().click();
    await minter.waitForURL(/\/ui\/keys\/.+\/retire$/);
    assert(/Retire signing key/.test(await minter.locator("h1").innerText()), "the page names the key");
    await accessible(minter, "key-retire");
    await screenshots(minter, "key-retire");

    await minter.goto(`${BASE}/ui/agents`);
    await minter.getByLabel("Agent", { exact: true }).last().fill(agent);
    await minter.getByRole("button", { name: /Revoke all/ }).click();
    await minter.waitForURL(/\/ui\/agents\/revoke\?agent=/);
    assert((await minter.locator("h1").innerText()).includes(agent), "the page names the agent");
    await accessible(minter, "agent-revoke");
    await screenshots(minter, "agent-revoke");
    await minter.getByRole("button", { name: `Revoke all tokens of ${agent}` }).click();
    await minter.waitForURL("**/ui/agents?done=revoked");
    const verdict = await api(agentToken, "GET", "/v1/whoami");
    assert(verdict.status === 401, `the agent's token after revoke-all: ${verdict.status}`);
  });

  await check("signing out ends the session everywhere", async () => {
    await dave.goto(`${BASE}/ui/tokens`);
    await dave.getByRole("button", { name: "Sign out" }).click();
    await dave.waitForURL("**/ui/login");
    const cookies = await dave.context().cookies();
    assert(!cookies.some((c) => c.name === "ward_session" && c.value), "the cookie is gone");
  });
} else {
  // Done-when 4, second half.
  await check("4. after an audit row is edited in the database the page shows the chain broken", async () => {
    const page = await signIn(env("ADMIN_USER"), env("ADMIN_PASSWORD"));
    await visit(page, "/ui/audit", "audit-broken");
    assert(await page.locator('[data-chain="broken"]').isVisible(), "the chain shows as broken");
  });
}

await check("no page broke its Content-Security-Policy", async () => {
  assert(cspViolations.length === 0, cspViolations.join("\n"));
});
await check("6. axe-core finds no serious or critical violation", async () => {
  assert(axeFailures.length === 0, axeFailures.join("\n"));
});

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
