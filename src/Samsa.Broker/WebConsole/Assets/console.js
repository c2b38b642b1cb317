// Samsa console: the group page's live updates. The server renders every fragment; this only
// swaps them in when the group's event stream says something changed.
(() => {
  const live = document.getElementById('live');
  if (!live) return;
  const note = live.querySelector('.live-text');
  let updates = 0;
  const source = new EventSource(live.dataset.events);
  source.addEventListener('update', (e) => {
    const fragments = JSON.parse(e.data);
    for (const [id, html] of Object.entries(fragments)) {
      const target = document.getElementById(id);
      if (target && target.innerHTML !== html) target.innerHTML = html;
    }
    updates++;
    live.dataset.updates = String(updates);
    live.classList.remove('offline', 'gone');
    if (note) note.textContent = 'live';
  });
  source.addEventListener('gone', () => {
    live.classList.add('gone');
    if (note) note.textContent = 'this group no longer exists';
  });
  source.onerror = () => {
    live.classList.add('offline');
    if (note) note.textContent = 'reconnecting…';
  };
})();
