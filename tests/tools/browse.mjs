// Drives Debian's chromium through playwright-core for the browser tests (tests/cli/browser.rs).
//
// stdin: `{"out": DIR, "chromium": PATH, "basic": {"username", "password"} | null, "steps":
// [STEP, …]}`, each step externally tagged (`{"open": URL}`, `"text"`, …; the list is in
// tests/cli/browser.rs). stdout: one JSON object, `{"results": [RESULT, …]}` with one result
// per step, plus `"failed": {"step", "error", "url", "text", "screenshot"}` when a step
// failed (the steps after it are not run; exit status 1). One browser, one page, for the whole list: a launch
// costs more than every step together.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, basename } from 'node:path';

// playwright-core sits in the test tools dir, not beside this script, and an ESM `import`
// does not read NODE_PATH: resolve it from where install.sh put it.
const modules = process.env.INTEG_BROWSER_MODULES;
if (!modules) {
    fail('INTEG_BROWSER_MODULES is not set (the node_modules dir holding playwright-core)');
}
const { chromium } = createRequire(join(modules, 'resolve.js'))('playwright-core');

const input = JSON.parse(readFileSync(0, 'utf8'));
const browser = await chromium
    .launch({
        executablePath: input.chromium,
        // Containers and CI runners are root, where chromium's sandbox cannot start.
        args: ['--no-sandbox'],
    })
    .catch((error) => fail(`failed to launch \`${input.chromium}\`: ${error.message}`));
const results = [];
let failed = null;
let page = null;
try {
    const context = await browser.newContext({
        acceptDownloads: true,
        // Sent when a server asks (401 with `WWW-Authenticate: Basic`), as a person would type.
        httpCredentials: input.basic ?? undefined,
    });
    page = await context.newPage();
    // No step should hang a test: every wait ends with an error naming what it waited for.
    page.setDefaultTimeout(10_000);
    for (const [index, step] of input.steps.entries()) {
        try {
            results.push(await run(page, step));
        } catch (error) {
            failed = {
                step: index,
                // Playwright colours its call log for terminals; a test's panic is read as text.
                error: String(error?.message ?? error).replace(/\u001b\[[0-9;]*m/g, ''),
                url: page.url(),
                text: await page.locator('body').innerText({ timeout: 1_000 }).catch(() => ''),
                // What the page looked like, for the person reading the failed test.
                screenshot: await page
                    .screenshot({ path: join(input.out, 'failure.png'), fullPage: true })
                    .then(() => join(input.out, 'failure.png'))
                    .catch(() => null),
            };
            break;
        }
    }
} finally {
    await browser.close();
}
process.stdout.write(JSON.stringify(failed ? { results, failed } : { results }));
process.exitCode = failed ? 1 : 0;

function fail(message) {
    process.stdout.write(JSON.stringify({ results: [], failed: { step: null, error: message } }));
    process.exit(1);
}

// One step: `"text"` or `{"name": argument}`.
async function run(page, step) {
    const [name, arg] = typeof step === 'string' ? [step, null] : Object.entries(step)[0];
    switch (name) {
        case 'open': {
            const response = await page.goto(arg);
            return landed(response);
        }
        case 'text':
            return { text: await page.locator('body').innerText() };
        case 'html':
            return { html: await page.content() };
        case 'wait_for_text':
            await page.getByText(arg).first().waitFor();
            return { url: page.url() };
        case 'fill':
            await (await field(page, arg.field)).fill(arg.value);
            return {};
        case 'select':
            return { selected: await (await field(page, arg.field)).selectOption(arg.values) };
        case 'check':
            await (await field(page, arg.field)).setChecked(arg.checked);
            return {};
        case 'click': {
            // A click that submits a form waits for the next document to start; this records
            // its response, then waits for it to load.
            let response = null;
            const record = (r) => {
                if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) {
                    response = r;
                }
            };
            page.on('response', record);
            try {
                await (await clickable(page, arg)).click();
                await page.waitForLoadState('load');
            } finally {
                page.off('response', record);
            }
            return response ? landed(response) : { url: page.url(), status: null };
        }
        case 'download': {
            // Subscribed before the action so neither event slips by; a page that loads
            // instead is an answer too (an error page), and is reported at once.
            const started = page.waitForEvent('download');
            const loaded = page.waitForEvent('load').then(() => null);
            if (arg.click !== undefined) {
                await (await clickable(page, arg.click)).click();
            } else {
                // A URL answered as an attachment aborts the navigation: that is the success.
                await page.goto(arg.open).catch((error) => {
                    if (!/Download is starting|ERR_ABORTED/.test(String(error))) throw error;
                });
            }
            const download = await Promise.race([started, loaded]);
            // The loser times out later, with nobody waiting for it.
            started.catch(() => {});
            loaded.catch(() => {});
            if (!download) throw new Error(`a page loaded, not a download: ${page.url()}`);
            const failure = await download.failure();
            if (failure) throw new Error(`the download of ${download.url()} failed: ${failure}`);
            const filename = download.suggestedFilename();
            // basename: a suggested name never places the file outside the test's dir.
            const path = join(input.out, basename(filename));
            await download.saveAs(path);
            return { filename, path, content: await readFile(path, 'utf8'), url: download.url() };
        }
        case 'screenshot': {
            const path = join(input.out, basename(arg));
            await page.screenshot({ path, fullPage: true });
            return { path };
        }
        case 'fetch':
            // In the page, so the browser applies its CORS rules for the page's origin.
            return await page.evaluate(async ({ url, method, headers, body }) => {
                try {
                    const response = await fetch(url, { method, headers, body: body ?? undefined });
                    return {
                        status: response.status,
                        headers: Object.fromEntries(response.headers),
                        body: await response.text(),
                    };
                } catch (error) {
                    // The browser hides why (the console says "blocked by CORS policy"), and
                    // a refused connection reads the same: tests start their servers first.
                    return { blocked: String(error) };
                }
            }, arg);
        default:
            throw new Error(`unknown step \`${name}\``);
    }
}

function landed(response) {
    return {
        url: response?.url() ?? page.url(),
        status: response?.status() ?? null,
        headers: response?.headers() ?? {},
    };
}

// A form field by its label, else by its `name`, else by a label that contains the text: a
// select inside its label is named after the label and the chosen option.
async function field(page, name) {
    for (const candidate of [
        page.getByLabel(name, { exact: true }),
        page.locator(`[name=${JSON.stringify(name)}]`),
        page.getByLabel(name),
    ]) {
        if ((await candidate.count()) > 0) return candidate;
    }
    throw new Error(`no field labelled or named \`${name}\``);
}

// A button or link by its accessible name (a submit input's value counts), on the page as
// loaded: `wait_for_text` first for one that a streamed page has yet to send.
async function clickable(page, name) {
    const target = page
        .getByRole('button', { name, exact: true })
        .or(page.getByRole('link', { name, exact: true }));
    if ((await target.count()) > 0) return target;
    throw new Error(`no button or link named \`${name}\``);
}
