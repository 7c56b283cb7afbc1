// A jest reporter that ends every run with one plain line, `N passed, N failed[, N skipped]`,
// which CI reads instead of jest's own summary, and writes the same counts as JSON to
// $MESHPILOT_TEST_SUMMARY when that is set (so .ci/run can tell "jest never ran" apart).
import { writeFileSync } from 'node:fs';

export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    // A suite that failed to load (syntax error, missing module) has no test results of its
    // own; count it as one failure so that it can never hide.
    const brokenSuites = results.testResults.filter((r) => r.testExecError && r.numFailingTests === 0).length;
    const failed = results.numFailedTests + brokenSuites;
    const passed = results.numPassedTests;
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
    if (process.env.MESHPILOT_TEST_SUMMARY) {
      writeFileSync(process.env.MESHPILOT_TEST_SUMMARY, JSON.stringify({ passed, failed, skipped }) + '\n');
    }
    process.stdout.write(`\n${line}\n`);
  }
}
