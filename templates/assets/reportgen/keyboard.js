/*
 * reportgen viewer scripts, keyboard: everything the mouse reaches, the keys reach too.
 * - Tabs (role tablist): Left/Right, Home/End move between views (roving tabindex).
 * - Head view tokens: Tab enters a column, Up/Down, Home/End move between tokens (isolating each one's
 *   links like a hover), Enter or Space pins the token.
 * - Matrix and rollout heatmaps: the canvas takes focus; arrow keys move a cell cursor (its weight in the
 *   readout), Enter pins the row's token.
 * - Neuron view: the canvas takes focus; Up/Down move between key rows (their numbers in the readout).
 * nextIndex is pure (unit-tested in tests/js/).
 */
(function (root) {
  'use strict';

  var RG = root.ReportGenViewer = root.ReportGenViewer || {};
  var parts = RG.parts = RG.parts || {};
  if (parts.keyboard) {
    return;
  }

  /** The index a key moves to in a list of `count` items (null: not a moving key). */
  function nextIndex(key, index, count, vertical) {
    if (count <= 0) {
      return null;
    }
    var back = vertical ? 'ArrowUp' : 'ArrowLeft', forth = vertical ? 'ArrowDown' : 'ArrowRight';
    if (key === back) {
      return Math.max(0, index - 1);
    }
    if (key === forth) {
      return Math.min(count - 1, index + 1);
    }
    if (key === 'Home') {
      return 0;
    }
    if (key === 'End') {
      return count - 1;
    }
    return null;
  }

  parts.keyboard = {nextIndex: nextIndex};
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = parts.keyboard;
    return; // node: the pure helpers only
  }

  var viewer = parts.viewer, Viewer = viewer.Viewer, VIEWS = viewer.VIEWS;

  function wireTabs(self) {
    var bar = self.root.querySelector('.rgv-tabs');
    bar.addEventListener('keydown', function (event) {
      var at = VIEWS.indexOf(self.state.view), to = nextIndex(event.key, at, VIEWS.length, false);
      if (to === null) {
        return;
      }
      event.preventDefault();
      self.set({view: VIEWS[to]});
      self.tabs[VIEWS[to]].focus();
    });
  }

  function wireTokens(self) {
    [self.leftColumn, self.rightColumn].forEach(function (column) {
      var side = column.getAttribute('data-side');
      column.addEventListener('keydown', function (event) {
        var token = event.target.closest && event.target.closest('.rgv-tok');
        if (!token) {
          return;
        }
        var nodes = column.children, unit = +token.getAttribute('data-unit');
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          self.pin(side, unit);
          var again = column.children[unit];
          if (again) {
            again.focus();
          }
          return;
        }
        var to = nextIndex(event.key, unit, nodes.length, true);
        if (to === null) {
          return;
        }
        event.preventDefault();
        token.setAttribute('tabindex', '-1');
        nodes[to].setAttribute('tabindex', '0');
        nodes[to].focus();
      });
      column.addEventListener('focusin', function (event) {
        var token = event.target.closest && event.target.closest('.rgv-tok');
        if (token) {
          self.setHover({side: side, unit: +token.getAttribute('data-unit')});
        }
      });
      column.addEventListener('focusout', function (event) {
        if (!column.contains(event.relatedTarget)) {
          self.setHover(null);
        }
      });
    });
  }

  /** Arrow keys over a heatmap target ({canvas, geometry}) of the matrix or rollout view. */
  function wireHeatmap(self, target) {
    var canvas = target.canvas;
    canvas.setAttribute('tabindex', '0');
    canvas.setAttribute('role', 'grid');
    canvas.setAttribute('aria-description', 'Arrow keys move between cells, Enter pins the row\u2019s token.');
    var cell = {i: 0, j: 0};
    function show() {
      var g = target.geometry;
      if (!g) {
        return;
      }
      cell.i = Math.min(cell.i, g.m - 1);
      cell.j = Math.min(cell.j, g.m - 1);
      var rect = canvas.getBoundingClientRect();
      self.matrixHover({clientX: rect.left + g.left + (cell.j + 0.5) * g.cell,
        clientY: rect.top + g.top + (cell.i + 0.5) * g.cell}, target);
    }
    canvas.addEventListener('focus', show);
    canvas.addEventListener('blur', function () {
      target.cursor.classList.add('rgv-hidden');
    });
    canvas.addEventListener('keydown', function (event) {
      var g = target.geometry;
      if (!g) {
        return;
      }
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        self.pin('from', cell.i);
        return;
      }
      var vertical = event.key === 'ArrowUp' || event.key === 'ArrowDown';
      var to = nextIndex(event.key, vertical ? cell.i : cell.j, g.m, vertical);
      if (to === null) {
        return;
      }
      event.preventDefault();
      if (vertical) {
        cell.i = to;
      } else {
        cell.j = to;
      }
      show();
    });
  }

  function wireNeuron(self) {
    var canvas = self.neuronCanvas, row = 0;
    canvas.setAttribute('tabindex', '0');
    canvas.setAttribute('aria-description', 'Up and down move between key rows; their numbers are read out.');
    function show() {
      var g = self.neuronGeometry, r = self.neuronResult;
      if (!g || !r) {
        return;
      }
      row = Math.min(row, r.keys.length - 1);
      var rect = canvas.getBoundingClientRect();
      self.neuronHover({clientX: rect.left + g.xS + 1, clientY: rect.top + g.keysTop + (row + 0.5) * g.rowHeight});
      canvas.setAttribute('data-row', String(row));
    }
    canvas.addEventListener('focus', show);
    canvas.addEventListener('keydown', function (event) {
      var r = self.neuronResult, to = r ? nextIndex(event.key, row, r.keys.length, true) : null;
      if (to === null) {
        return;
      }
      event.preventDefault();
      row = to;
      show();
    });
  }

  var build = Viewer.prototype.build;
  Viewer.prototype.build = function () {
    build.call(this);
    wireTabs(this);
    if (this.leftColumn) {
      wireTokens(this);
    }
    if (this.matrixTarget) {
      wireHeatmap(this, this.matrixTarget);
    }
    if (this.rolloutTarget) {
      wireHeatmap(this, this.rolloutTarget);
    }
    if (this.neuronCanvas) {
      wireNeuron(this);
    }
  };

  var syncControls = Viewer.prototype.syncControls;
  Viewer.prototype.syncControls = function () {
    syncControls.call(this);
    var s = this.state, self = this;
    if (this.meta) {
      VIEWS.forEach(function (view) {
        self.tabs[view].setAttribute('tabindex', view === s.view ? '0' : '-1');
      });
    }
  };

  var fillColumns = Viewer.prototype.fillColumns;
  Viewer.prototype.fillColumns = function (units, rowHeight) {
    fillColumns.call(this, units, rowHeight);
    var pinned = this.state.token >= 0 ? units.tokenUnit[this.state.token] : -1;
    [this.leftColumn, this.rightColumn].forEach(function (column) {
      var nodes = column.children;
      for (var u = 0; u < nodes.length; u++) {
        nodes[u].setAttribute('tabindex', u === (pinned >= 0 ? pinned : 0) ? '0' : '-1');
        nodes[u].setAttribute('role', 'button');
      }
    });
  };
})(typeof window !== 'undefined' ? window : globalThis);
