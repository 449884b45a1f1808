// Undo/redo: a stack of definition snapshots. Definitions are immutable
// (every change makes new objects for what changed and shares the rest), so
// a snapshot costs a few pointers. Steps pushed with the same coalescing key
// within `windowMs` replace each other (typing in a field, a drag's moves),
// and the stack keeps at most `cap` steps.
export class UndoStack<T> {
  private past: T[] = [];
  private future: T[] = [];
  private lastKey: string | null = null;
  private lastAt = 0;
  current: T;

  constructor(initial: T, private cap = 100, private windowMs = 1000) {
    this.current = initial;
  }

  /** Records `next` as the new current state. */
  push(next: T, coalesceKey?: string, now = Date.now()) {
    if (next === this.current) return;
    const coalesce = coalesceKey !== undefined && coalesceKey === this.lastKey && now - this.lastAt <= this.windowMs && this.past.length > 0;
    if (!coalesce) {
      this.past.push(this.current);
      if (this.past.length > this.cap) this.past.splice(0, this.past.length - this.cap);
    }
    this.current = next;
    this.future = [];
    this.lastKey = coalesceKey ?? null;
    this.lastAt = now;
  }

  undo(): T | null {
    const prev = this.past.pop();
    if (prev === undefined) return null;
    this.future.push(this.current);
    this.current = prev;
    this.lastKey = null;
    return prev;
  }

  redo(): T | null {
    const next = this.future.pop();
    if (next === undefined) return null;
    this.past.push(this.current);
    this.current = next;
    this.lastKey = null;
    return next;
  }

  /** Forgets the history (a load, a reload of theirs). */
  reset(state: T) {
    this.past = [];
    this.future = [];
    this.current = state;
    this.lastKey = null;
  }

  /** Ends coalescing: the next push is a step of its own. */
  seal() { this.lastKey = null; }

  get canUndo() { return this.past.length > 0; }
  get canRedo() { return this.future.length > 0; }
  get depth() { return this.past.length; }
}
