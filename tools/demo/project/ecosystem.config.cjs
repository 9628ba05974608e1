// The demo's PM2 apps. min_uptime × max_restarts is PM2's window for counting unstable starts:
// a crasher that exits three times within it is marked errored and left alone by PM2.
module.exports = {
  apps: [
    { name: 'demo-web', script: 'apps/web.js' },
    { name: 'demo-leaky', script: 'apps/leaky.js', max_memory_restart: '200M' },
    { name: 'demo-crasher', script: 'apps/crasher.js', min_uptime: 120000, max_restarts: 3 },
  ],
};
