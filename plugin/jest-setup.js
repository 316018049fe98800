// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';

// jsdom lacks IntersectionObserver; @grafana/ui's Select menus use it only for scroll shadows.
class NoopIntersectionObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
global.IntersectionObserver = global.IntersectionObserver ?? NoopIntersectionObserver;
