// Times the web client's first load in headless Chromium, for bench/web (a
// benchmark, not a test: not run by node --test).
import { chromium } from 'playwright-core';

const base = process.env.VOTTERY_APP_URL;
const runs = Number(process.env.RUNS || 20);
const browser = await chromium.launch({
  executablePath: process.env.VOTTERY_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
const samples = { fcp: [], dcl: [], load: [], step1: [] };
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const started = Date.now();
  await page.goto(`${base}/`, { referer: 'https://sngine.example/', waitUntil: 'load' });
  await page.getByRole('heading', { name: 'Step 1 of 3: your contact details' }).waitFor();
  const step1 = Date.now() - started;
  const timing = await page.evaluate(() => {
    const [nav] = performance.getEntriesByType('navigation');
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    return { fcp: fcp?.startTime ?? NaN, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
  });
  if (i > 0) {
    // The first run warms the app's instances; it is not counted.
    samples.fcp.push(timing.fcp);
    samples.dcl.push(timing.dcl);
    samples.load.push(timing.load);
    samples.step1.push(step1);
  }
  await context.close();
}
await browser.close();
const at = (values, q) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * q)];
console.log(`| measure (${runs - 1} fresh loads) | p50 ms | p90 ms |`);
console.log('|---|---|---|');
const names = { fcp: 'first contentful paint', dcl: 'DOMContentLoaded', load: 'load', step1: 'step 1 on screen (from goto)' };
for (const [key, name] of Object.entries(names)) {
  console.log(`| ${name} | ${at(samples[key], 0.5).toFixed(1)} | ${at(samples[key], 0.9).toFixed(1)} |`);
}
