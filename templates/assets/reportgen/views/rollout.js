/*
 * reportgen viewer scripts, rollout view: attention rollout (Abnar & Zuidema 2020) up to the chosen
 * layer, from the example's R.js file, painted like the matrix view.
 */
(function () {
  'use strict';

  var parts = window.ReportGenViewer.parts;
  var core = parts.core, el = parts.dom.el, Viewer = parts.viewer.Viewer;

  /** Build the rollout view's pane: the matrix view's heatmap of the rollout up to the chosen layer. */
  function build() {
    var self = this;
    this.rolloutCanvas = el('canvas', {class: 'rgv-rollout-canvas', 'aria-label': 'Attention rollout'});
    this.rolloutCursor = el('div', {class: 'rgv-cursor rgv-hidden'});
    this.rolloutReadout = el('div', {class: 'rgv-readout', 'aria-live': 'polite'});
    this.rolloutLegend = el('div', {class: 'rgv-legend'}, [
      el('span', {text: '0'}), el('span', {class: 'rgv-legend-ramp'}), el('span', {text: '1'})
    ]);
    this.rolloutFormula = el('div', {class: 'rgv-formula'});
    this.rolloutCanvas.addEventListener('mousemove', function (event) {
      self.matrixHover(event, self.rolloutTarget);
    });
    this.rolloutCanvas.addEventListener('mouseleave', function () {
      self.rolloutCursor.classList.add('rgv-hidden');
    });
    var pane = el('div', {class: 'rgv-pane rgv-rollout-pane'}, [
      el('p', {class: 'rgv-hint', text: 'Attention rollout (Abnar & Zuidema 2020): how much of each input token ' +
        '(column) flows into each token\u2019s representation (row) up to the chosen layer, with the residual ' +
        'connection counted as half of every layer and the heads averaged. Rows sum to 1.'}),
      this.rolloutFormula,
      el('div', {class: 'rgv-matrix-top'}, [this.rolloutReadout, this.rolloutLegend]),
      el('div', {class: 'rgv-scroll'}, [
        el('div', {class: 'rgv-matrix-wrap'}, [this.rolloutCanvas, this.rolloutCursor])
      ])
    ]);
    this.rolloutTarget = {canvas: this.rolloutCanvas, cursor: this.rolloutCursor, readout: this.rolloutReadout,
      legend: this.rolloutLegend, pane: pane, geometry: null};
    return pane;
  }

  function render(generation) {
    if (!core.dataFile(this.meta, 'rollout', 0)) {
      this.fail(new Error('No rollout data for this example (built by an older reportgen?).'));
      return;
    }
    this.loadAndDraw(generation, 'rollout', this.drawRollout);
  }

  Viewer.prototype.drawRollout = function (bytes) {
    var meta = this.meta, s = this.state, n = meta.n, layer = s.layer;
    this.cache.rolloutLayers = this.cache.rolloutLayers || {};
    var data = this.cache.rolloutLayers[layer];
    if (!data || data.buffer !== bytes.buffer) {
      data = this.cache.rolloutLayers[layer] = bytes.subarray(layer * n * n, (layer + 1) * n * n);
    }
    this.rolloutFormula.textContent = meta.rollout_formula ||
      '\u00c2_l = rownorm(0.5 \u00b7 mean_h A_l + 0.5 \u00b7 I);  R_0 = \u00c2_0,  R_l = \u00c2_l \u00b7 R_(l-1)';
    // unitMatrix reads head 0 of a [1, n, n] block: the rollout of this layer.
    var matrix = this.unitMatrix(data, 0), top = 0;
    for (var i = 0; i < matrix.length; i++) {
      top = Math.max(top, matrix[i]);
    }
    this.rolloutTarget.scale = top > 0 ? top : 1; // the scale fits this layer's values
    this.rolloutLegend.setAttribute('data-max', String(this.rolloutTarget.scale));
    this.paintMatrix(this.rolloutTarget, matrix, 'Rollout R_' + layer + ' (layers 0 to ' + layer +
      ', heads averaged): row i is the share of each input token in token i. Hover a cell for its value.');
  };

  // The rollout tab opens at the last layer (R of the whole model); layer 0 is little more than a diagonal.
  var set = Viewer.prototype.set;
  Viewer.prototype.set = function (changes, options) {
    if (changes.view === 'rollout' && this.state.view !== 'rollout' && changes.layer === undefined && this.meta &&
        !(options && options.fromHash)) {
      changes = Object.assign({}, changes, {layer: this.meta.layers - 1});
    }
    return set.call(this, changes, options);
  };

  parts.viewer.register('rollout', {
    title: 'Rollout', build: build, render: render,
    exportCanvas: function () {
      return this.rolloutTarget.geometry ? this.rolloutCanvas : null;
    }
  });
})();
