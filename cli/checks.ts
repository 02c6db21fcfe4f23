/** What the check-running tools (demo, smoke) share: one result shape, one report, one exit path. */
export interface CheckResult {
  name: string;
  passed: boolean;
  detail: string;
}

export function printCheck(result: CheckResult): void {
  console.log(`${result.passed ? 'PASS' : 'FAIL'}  ${result.name}\n      ${result.detail}`);
}

/** Prints the tally and returns the process exit code: non-zero when any check failed. */
export function summarize(results: CheckResult[]): number {
  const failed = results.filter((result) => !result.passed).length;
  console.log(`\n${results.length - failed}/${results.length} passed`);
  return failed === 0 ? 0 : 1;
}

/** Runs a command's main and sets the exit code from it (1 on an unexpected error). */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
