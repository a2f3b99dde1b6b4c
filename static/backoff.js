// When to try the socket again after it closed: exponential backoff with jitter, quicker after
// a server restart (1012), slower after a flood close (4029), and back to the start once a
// connection is welcomed. Pure: the random source is passed in, so `node --test` checks it.

export const BASE_MS = 500;
export const MAX_MS = 15000;
export const RESTART_MS = [300, 800]; // a restarting server is back within a second or so
export const FLOOD_MIN_MS = 10000; // we were closed for flooding: do not come straight back

export class Backoff {
  constructor() {
    this.attempt = 0; // failed tries since the last welcome
  }

  /** True until the first try after a reset has been scheduled. */
  get fresh() {
    return this.attempt === 0;
  }

  /**
   * The delay in ms before the next try after a close with `code`; counts the try.
   * Full tries wait between half and all of min(MAX_MS, BASE_MS · 2^attempt).
   */
  next(code, random = Math.random) {
    let delay = Math.min(MAX_MS, BASE_MS * 2 ** this.attempt);
    delay = delay / 2 + random() * (delay / 2);
    if (code === 1012 && this.attempt === 0) {
      delay = RESTART_MS[0] + random() * (RESTART_MS[1] - RESTART_MS[0]);
    }
    if (code === 4029) delay = Math.max(delay, FLOOD_MIN_MS);
    this.attempt += 1;
    return delay;
  }

  /** A connection was welcomed, or the person asked to try now: start from the shortest. */
  reset() {
    this.attempt = 0;
  }
}
