// Injected before the console's own scripts (Playwright add_init_script). Observes, never
// changes, what the page does: every /ws message with its arrival time, every toast the moment it
// is in the DOM, and long main-thread tasks. Times are epoch milliseconds with sub-ms precision
// (performance.timeOrigin + performance.now()), comparable with the server's RFC 3339 times.
(() => {
  if (window.__moby) return;
  const now = () => performance.timeOrigin + performance.now();
  const probe = (window.__moby = {
    sockets: [], // {url, openedAt, closedAt}
    events: [], // {at, type, seq, alertId, severity, status}
    messages: 0,
    toasts: {}, // alertId -> first time seen in the DOM
    toastAdds: [], // {id, at, kind} each time a toast element is inserted
    more: [], // {at, count} each "N more alerts" change
    firstRowAt: null, // first fleet row in the DOM (ms since navigation start)
    longTasks: [], // {start, duration} (ms since navigation start)
  });

  const Native = window.WebSocket;
  class ProbedWebSocket extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      const record = { url: String(url), openedAt: null, closedAt: null };
      probe.sockets.push(record);
      this.addEventListener('open', () => (record.openedAt = now()));
      this.addEventListener('close', () => (record.closedAt = now()));
      this.addEventListener('message', (event) => {
        const at = now();
        probe.messages += 1;
        if (typeof event.data !== 'string') return;
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        if (message && typeof message.type === 'string' && message.type.startsWith('alert.')) {
          const alert = message.alert || {};
          probe.events.push({ at, type: message.type, seq: message.seq, alertId: alert.id, severity: alert.severity, status: alert.status, url: record.url });
        } else if (message && message.type === 'snapshot') {
          probe.events.push({ at, type: 'snapshot', seq: message.seq, count: (message.alerts || []).length, url: record.url });
        }
      });
    }
  }
  window.WebSocket = ProbedWebSocket;

  const seen = (node) => {
    if (!(node instanceof Element)) return;
    const candidates = node.matches('[data-testid]') ? [node] : [];
    candidates.push(...node.querySelectorAll('[data-testid="toast"],[data-testid="toast-more"],[data-testid="device-row"]'));
    for (const el of candidates) {
      const id = el.getAttribute('data-testid');
      if (id === 'toast') {
        const alertId = el.getAttribute('data-alert-id');
        const at = now();
        probe.toastAdds.push({ id: alertId, at, kind: el.getAttribute('data-kind') });
        if (!(alertId in probe.toasts)) probe.toasts[alertId] = at;
      } else if (id === 'toast-more') {
        probe.more.push({ at: now(), count: Number(el.getAttribute('data-count')) });
      } else if (id === 'device-row' && probe.firstRowAt === null) {
        probe.firstRowAt = performance.now();
      }
    }
  };
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === 'childList') record.addedNodes.forEach(seen);
      else if (record.type === 'attributes' && record.target instanceof Element && record.target.getAttribute('data-testid') === 'toast-more') {
        probe.more.push({ at: now(), count: Number(record.target.getAttribute('data-count')) });
      }
    }
  }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-count'] });

  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) probe.longTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // no longtask support: longTasks stays empty, and the measurement says so
    probe.longTasks = null;
  }
})();
