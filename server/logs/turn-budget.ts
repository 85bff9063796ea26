// How much log delivery one turn of the event loop may do, shared by every tail and every follower
// catching up on its own: a thousand followers' reads can complete in one turn, and delivering all of
// them at once stalled every other request. Past the budget, delivery waits for the next turn.
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Milliseconds of delivery per turn: other requests are served in between. */
const BUDGET_MS = 4;

let turnStart: number | undefined;

/** Resolves at once while this turn has budget left, else in a later turn. */
export async function deliveryTurn(): Promise<void> {
  for (;;) {
    const now = performance.now();
    if (turnStart === undefined) {
      turnStart = now;
      // Cleared once the loop has gone round (the check phase), so the next turn starts afresh.
      setImmediate(() => (turnStart = undefined));
      return;
    }
    if (now - turnStart <= BUDGET_MS) return;
    await nextTurn();
  }
}
