// The leaking demo app: keeps 1 MiB more every second, until the daemon sees it above
// pm2.memory_threshold_pct of its max_memory_restart for three checks in a row and restarts it.
const kept = [];
setInterval(() => {
  kept.push(Buffer.alloc(1024 * 1024, 1));  // filled, so the pages are really resident
  if (kept.length % 10 === 0) console.log(`demo-leaky: holding ${kept.length} MiB`);
}, 1000);
