// The outbox (tools/outbox): the local stand-in for Twilio and the mail
// providers that ./scripts/run points the app at. Read from Node, as the
// member reads their phone and their mail: it is not the app's origin.

export class Outbox {
  constructor(base) {
    this.base = base.replace(/\/$/, '');
  }

  /** The messages accepted so far, oldest first (`to` filters). */
  async messages(to) {
    const url = new URL('/messages', this.base);
    if (to) url.searchParams.set('to', to);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`outbox: GET ${url} answered ${response.status}: ${await response.text()}`);
    return (await response.json()).messages;
  }

  /** How many messages `to` has had (a mark for `nextCode`). */
  async count(to) {
    return (await this.messages(to)).length;
  }

  /**
   * The first message to `to` after the first `after` ones, once it has
   * arrived (waits up to `timeout` ms); its `code` is the one-time code.
   */
  async next(to, { after = 0, timeout = 15_000 } = {}) {
    const until = Date.now() + timeout;
    for (;;) {
      const messages = await this.messages(to);
      if (messages.length > after) return messages[after];
      if (Date.now() > until) throw new Error(`outbox: no message to ${to} within ${timeout} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The code of the next message to `to` (see `next`). */
  async nextCode(to, options) {
    const message = await this.next(to, options);
    if (!message.code) throw new Error(`outbox: the message to ${to} has no code: ${JSON.stringify(message)}`);
    return { code: message.code, message };
  }
}
