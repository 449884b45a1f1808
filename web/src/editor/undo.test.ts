import { describe, expect, it } from 'vitest';
import { UndoStack } from './undo';

describe('UndoStack', () => {
  it('undoes and redoes steps in order', () => {
    const s = new UndoStack('a');
    s.push('b'); s.push('c');
    expect(s.undo()).toBe('b');
    expect(s.undo()).toBe('a');
    expect(s.undo()).toBeNull();
    expect(s.current).toBe('a');
    expect(s.redo()).toBe('b');
    expect(s.redo()).toBe('c');
    expect(s.redo()).toBeNull();
  });

  it('a new step drops the redo branch', () => {
    const s = new UndoStack(1);
    s.push(2); s.push(3); s.undo();
    s.push(4);
    expect(s.canRedo).toBe(false);
    expect(s.undo()).toBe(2);
  });

  it('coalesces steps with the same key inside the window into one', () => {
    const s = new UndoStack('', 100, 1000);
    s.push('h', 'name', 0); s.push('he', 'name', 300); s.push('hel', 'name', 900); s.push('hell', 'name', 1800);
    expect(s.depth).toBe(1);
    expect(s.undo()).toBe('');
    s.redo();
    s.push('hello', 'name', 5000); // outside the window: a step of its own
    expect(s.depth).toBe(2);
    s.push('x', 'other', 5001);
    expect(s.depth).toBe(3);
  });

  it('seal and undo end coalescing', () => {
    const s = new UndoStack(0, 100, 1000);
    s.push(1, 'drag', 0); s.seal(); s.push(2, 'drag', 10);
    expect(s.depth).toBe(2);
  });

  it('keeps at most cap steps', () => {
    const s = new UndoStack(0, 5);
    for (let i = 1; i <= 20; i++) s.push(i);
    expect(s.depth).toBe(5);
    let last = 0;
    while (s.canUndo) last = s.undo()!;
    expect(last).toBe(15);
  });

  it('ignores pushing the current state and resets', () => {
    const s = new UndoStack({ a: 1 });
    s.push(s.current);
    expect(s.canUndo).toBe(false);
    s.push({ a: 2 });
    s.reset({ a: 3 });
    expect(s.canUndo || s.canRedo).toBe(false);
  });
});
