// Helpers for the canvas editor (web/src/editor/), shared by the scenarios.
// Nodes are found by data-testid="node-<id>" (NodeView.tsx), their run
// status by data-status, their diff mark by data-diff; handles are React
// Flow's .react-flow__handle (source on the right, target on the left).
import assert from 'node:assert/strict';

/** The canvas node with this id. */
export function node(page, id) {
  return page.getByTestId(`node-${id}`);
}

/** The canvas (React Flow's pane): where nodes are dropped. */
export function canvas(page) {
  return page.locator('.editor-canvas .react-flow__pane');
}

/** Drags the palette entry "Add NAME" onto the canvas at (x, y) of the canvas. */
export async function dragFromPalette(page, typeName, x, y) {
  const palette = page.getByRole('complementary', { name: 'Node palette' });
  const search = palette.getByRole('searchbox', { name: 'Search nodes' });
  await search.fill(typeName);
  const item = palette.getByRole('button', { name: `Add ${typeName}`, exact: true });
  await item.dragTo(page.locator('.editor-canvas'), { targetPosition: { x, y } });
  await search.fill('');
}

/** Centre of a locator's box in page coordinates. */
async function centre(loc) {
  const b = await loc.boundingBox();
  assert.ok(b, 'element has a box (is visible)');
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/**
 * Connects two nodes by dragging with the mouse from the source node's
 * output handle to the target node's input handle (React Flow's own
 * connection gesture), then waits for the edge to appear.
 */
export async function connect(page, fromId, toId, { fromPort, toPort } = {}) {
  const src = node(page, fromId).locator('.react-flow__handle.source' + (fromPort ? `[data-handleid="${fromPort}"]` : ''));
  const dst = node(page, toId).locator('.react-flow__handle.target' + (toPort ? `[data-handleid="${toPort}"]` : ''));
  const edgesBefore = await page.locator('.react-flow__edge').count();
  const a = await centre(src.first());
  const b = await centre(dst.first());
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  // several steps: React Flow follows the pointer and snaps to the handle
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 });
  await page.mouse.move(b.x, b.y, { steps: 8 });
  await page.mouse.up();
  await page.waitForFunction((n) => document.querySelectorAll('.react-flow__edge').length > n, edgesBefore);
}

/** Clicks a node (selects it; the node panel opens). */
export async function select(page, id) {
  await node(page, id).click();
  return page.getByRole('complementary', { name: /^Node / });
}

/** Waits until every listed node has data-status = status. */
export async function waitForStatus(page, ids, status, timeout = 30000) {
  await page.waitForFunction(({ ids: list, st }) => list.every((i) => {
    const el = document.querySelector(`[data-testid="node-${i}"]`);
    return el && el.getAttribute('data-status') === st;
  }), { ids, st: status }, { timeout });
}

/** {id: data-status} of every canvas node. */
export async function statuses(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-testid^="node-"]')]
    .filter((el) => el.closest('.react-flow__node'))
    .map((el) => [el.getAttribute('data-testid').slice(5), el.getAttribute('data-status')])));
}

/** Creates a workflow through the API as session s; returns it. */
export async function createWorkflow(s, name, definition) {
  const r = await s.post('/api/workflows', { name, definition });
  assert.equal(r.status, 201, `create workflow: ${r.text}`);
  return r.json;
}

/** Closes every toast (before a screenshot meant for the README). */
export async function dismissToasts(page) {
  const close = page.locator('.toasts .toast').getByRole('button', { name: 'Dismiss' });
  for (let n = await close.count(); n > 0; n = await close.count()) {
    await close.first().click();
    await page.waitForFunction((k) => document.querySelectorAll('.toasts .toast').length < k, n);
  }
}

/**
 * Starts recording, in the page, every data-status each canvas node takes
 * (a MutationObserver: no status is missed between two polls). Read the
 * record with statusHistory(page): {id: [status, ...]} in order, repeats
 * collapsed. A new page (navigation) needs a new recording.
 */
export async function recordStatuses(page) {
  await page.evaluate(() => {
    const log = (window.__e2eStatusLog = {});
    const note = (el) => {
      const tid = el.getAttribute && el.getAttribute('data-testid');
      if (!tid || !tid.startsWith('node-')) return;
      const id = tid.slice(5);
      const st = el.getAttribute('data-status') || '(none)';
      const l = (log[id] ??= []);
      if (l[l.length - 1] !== st) l.push(st);
    };
    document.querySelectorAll('[data-testid^="node-"]').forEach(note);
    window.__e2eStatusObserver?.disconnect();
    const obs = (window.__e2eStatusObserver = new MutationObserver((ms) => {
      for (const m of ms) {
        if (m.type === 'attributes') note(m.target);
        else m.addedNodes.forEach((n) => { if (n.nodeType === 1) { note(n); n.querySelectorAll?.('[data-testid^="node-"]').forEach(note); } });
      }
    }));
    obs.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
  });
}

/** The statuses recorded since recordStatuses(page). */
export async function statusHistory(page) {
  return page.evaluate(() => window.__e2eStatusLog || {});
}
