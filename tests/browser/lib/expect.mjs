// Assertions on the app's answers that show the problem+json body (or
// whatever came) when the status is not the expected one.
import assert from 'node:assert/strict';

export function explain(answer) {
  const shown = answer.body !== null && answer.body !== undefined ? JSON.stringify(answer.body, null, 2) : answer.text;
  const type = answer.headers?.['content-type'] ?? 'no content-type';
  return `${answer.method} ${answer.path} answered ${answer.status} (${type}):\n${shown || '(empty body)'}`;
}

/** Asserts the status; returns the JSON body. */
export function expectStatus(answer, status) {
  if (answer.status !== status) {
    assert.fail(`expected ${status}: ${explain(answer)}`);
  }
  return answer.body;
}

/** Asserts a problem+json refusal with this status and code. */
export function expectProblem(answer, status, code) {
  const problem = expectStatus(answer, status);
  assert.match(answer.headers['content-type'] ?? '', /^application\/problem\+json/, explain(answer));
  assert.equal(problem?.code, code, explain(answer));
  return problem;
}
