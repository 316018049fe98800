// force timezone to UTC to allow tests to work regardless of local timezone
process.env.TZ = 'UTC';

const os = require('os');
const base = require('./.config/jest.config');

// The scaffold only transforms .ts/.js; d3-color >= 3.1.1 (pulled in by @grafana/ui) ships .mjs only.
const swc = base.transform['^.+\\.(t|j)sx?$'];

module.exports = {
  ...base,
  // One worker per core beyond the one jest's parent process needs: more workers than cores only
  // make each test slower (4 workers on a 2-core machine pushed a render past the 5 s default).
  maxWorkers: Math.max(1, os.availableParallelism() - 1),
  // Rendering @grafana/ui components takes a few seconds on a loaded machine; a real hang still fails.
  testTimeout: 30000,
  transform: {
    '^.+\\.(t|j)sx?$': swc,
    '^.+\\.mjs$': swc,
  },
};
