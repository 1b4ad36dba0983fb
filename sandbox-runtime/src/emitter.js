// The smallest event emitter the API needs: on, off, emit.

export class Emitter {
  constructor() {
    this._h = {};
  }
  on(type, fn) {
    (this._h[type] ||= []).push(fn);
    return this;
  }
  off(type, fn) {
    this._h[type] = (this._h[type] || []).filter((f) => f != fn);
    return this;
  }
  emit(type, ...args) {
    for (const fn of this._h[type] || []) {
      try {
        fn(...args);
      } catch (e) {
        console.error(e);
      }
    }
  }
}
