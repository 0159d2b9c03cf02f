// A flow of dependent steps as subtests: each step is reported on its own;
// after a failed step the rest are skipped (they would only fail for it).
// `report` says what else to show when a step fails (the page's log).

export function steps(t, report = async () => '') {
  let failed = null;
  return async function step(name, fn) {
    if (failed) {
      await t.test(name, { skip: `"${failed}" failed` }, () => {});
      return;
    }
    await t.test(name, async () => {
      try {
        await fn();
      } catch (error) {
        failed = name;
        const extra = await report().catch((e) => `(no report: ${e})`);
        if (extra) console.error(`--- step "${name}" failed; what the page saw:\n${extra}`);
        throw error;
      }
    });
  };
}
