/*
 * reportgen viewer scripts, matrix view: one head's attention as a heatmap, rows attending to columns,
 * with the weight of the cell under the mouse; a click pins the row's token.
 */
(function () {
  'use strict';

  var parts = window.ReportGenViewer.parts;
  var el = parts.dom.el, Viewer = parts.viewer.Viewer;

  /** Build the matrix view's pane: heatmap canvas with axis labels, a hover box and readout. */
  function build() {
    var self = this;
    this.matrixCanvas = el('canvas', {class: 'rgv-matrix-canvas', 'aria-label': 'Attention matrix'});
    this.matrixCursor = el('div', {class: 'rgv-cursor rgv-hidden'});
    this.matrixReadout = el('div', {class: 'rgv-readout', 'aria-live': 'polite'});
    this.matrixLegend = el('div', {class: 'rgv-legend'}, [
      el('span', {text: '0'}), el('span', {class: 'rgv-legend-ramp'}), el('span', {text: '1'})
    ]);
    this.matrixCanvas.addEventListener('mousemove', function (event) {
      self.matrixHover(event);
    });
    this.matrixCanvas.addEventListener('mouseleave', function () {
      self.matrixCursor.classList.add('rgv-hidden');
      self.matrixReadout.textContent = '\u00a0';
    });
    this.matrixCanvas.addEventListener('click', function (event) {
      var cell = self.matrixCell(event);
      if (cell) {
        self.pin('from', cell.i);
      }
    });
    var pane = el('div', {class: 'rgv-pane rgv-matrix-pane'}, [
      el('div', {class: 'rgv-matrix-top'}, [this.matrixReadout, this.matrixLegend]),
      el('div', {class: 'rgv-scroll'}, [
        el('div', {class: 'rgv-matrix-wrap'}, [this.matrixCanvas, this.matrixCursor])
      ])
    ]);
    this.matrixTarget = {canvas: this.matrixCanvas, cursor: this.matrixCursor, readout: this.matrixReadout,
      legend: this.matrixLegend, pane: pane, geometry: null};
    return pane;
  }

  Viewer.prototype.drawMatrix = function (layerData) {
    var s = this.state, h = this.focusHead();
    this.layerData = layerData;
    this.paintMatrix(this.matrixTarget, this.unitMatrix(layerData, h), 'Layer ' + s.layer + ', head ' + h +
      (this.headLabel(s.layer, h) ? ' (' + this.headLabel(s.layer, h) + ')' : '') +
      ': rows attend to columns. Hover a cell for its weight.');
  };

  parts.viewer.register('matrix', {
    title: 'Matrix', build: build, singleHead: true,
    draw: function (layerData) {
      this.drawMatrix(layerData);
    },
    exportCanvas: function () {
      return this.matrixCanvas;
    }
  });
})();
