/*
 * reportgen viewer scripts, export: the current view as a PNG image (each view says which canvas, see
 * exportCanvas in views/*.js; the head and model views are composed here with their labels) and the
 * head view as an SVG drawing (one <line> per drawn link, one <text> per token, all text XML-escaped).
 */
(function () {
  'use strict';

  var parts = window.ReportGenViewer.parts;
  var dom = parts.dom, viewer = parts.viewer, Viewer = viewer.Viewer;
  var readTheme = dom.readTheme, tokenText = dom.tokenText, sizeCanvas = dom.sizeCanvas;
  var ellipsize = dom.ellipsize, download = dom.download, slugPart = dom.slugPart, xmlEscape = dom.xmlEscape;
  var headColour = dom.headColour, svgNamespace = dom.svgNamespace;

  Viewer.prototype.fileName = function (extension) {
    var s = this.state, meta = this.meta, name = ['reportgen', slugPart(meta.model), slugPart(meta.example), s.view];
    if (s.view !== 'model') {
      name.push('L' + s.layer);
    }
    var heads = this.selectedHeads();
    if (s.view !== 'model' && heads.length === 1) {
      name.push('H' + heads[0]);
    }
    return name.join('-') + '.' + extension;
  };

  /** A canvas holding the current view, ready for PNG export (null: nothing to export). */
  Viewer.prototype.exportCanvas = function () {
    var view = viewer.registry[this.state.view];
    return view && view.exportCanvas ? view.exportCanvas.call(this) : null;
  };

  Viewer.prototype.headGeometry = function () {
    var theme = readTheme(this.root), list = this.units().list, rowHeight = this.rowPx || 20;
    var probe = document.createElement('canvas').getContext('2d'), font = Math.max(10, rowHeight - 7);
    probe.font = font + 'px ' + theme.font;
    var textWidth = 40;
    list.forEach(function (unit) {
      textWidth = Math.max(textWidth, probe.measureText(tokenText(unit.label)).width);
    });
    textWidth = Math.min(220, Math.ceil(textWidth)) + 12;
    return {
      theme: theme, list: list, rowHeight: rowHeight, font: font, textWidth: textWidth, title: 30,
      width: 2 * textWidth + this.linesWidth + 16, height: 30 + list.length * rowHeight + 10
    };
  };

  /** Every option that changes what the current view draws, as caption text (empty list: none). */
  Viewer.prototype.filterText = function () {
    var s = this.state, meta = this.meta, out = [], view = s.view;
    var lines = view === 'head' || view === 'model', grid = view === 'matrix' || view === 'rollout';
    if (s.token >= 0 && (lines || view === 'neuron')) {
      out.push((s.dir === 'to' ? 'links to ' : 'links from ') + '\u201c' + tokenText(meta.tokens[s.token]) +
        '\u201d (token ' + s.token + ')');
    }
    if (lines && s.filter !== 'all') {
      out.push({aa: 'A \u2192 A', bb: 'B \u2192 B', ab: 'A \u2192 B', ba: 'B \u2192 A'}[s.filter] + ' only');
    }
    if ((lines || grid) && s.special !== 'show') {
      out.push(s.special === 'renorm' && view !== 'model' ? 'special tokens hidden, rows renormalised'
        : 'special tokens hidden');
    }
    if ((view === 'head' || grid) && s.words) {
      out.push('word pieces merged into words');
    }
    if (lines && s.top < 100) {
      out.push('top ' + s.top + '% of each row');
    }
    return out;
  };

  Viewer.prototype.viewTitle = function () {
    var heads = this.selectedHeads(), s = this.state, meta = this.meta, filters = this.filterText();
    return (meta.model_name || meta.model) + ' \u00b7 ' + meta.example + ' \u00b7 layer ' + s.layer + ' \u00b7 ' +
      (heads.length === meta.heads ? 'all heads' : 'heads ' + heads.join(', ')) +
      (filters.length ? ' \u00b7 ' + filters.join(' \u00b7 ') : '');
  };

  Viewer.prototype.composeHead = function () {
    var g = this.headGeometry(), theme = g.theme, canvas = document.createElement('canvas');
    var ctx = sizeCanvas(canvas, g.width, g.height), active = this.drawnActive;
    ctx.fillStyle = theme.bgSolid;
    ctx.fillRect(0, 0, g.width, g.height);
    ctx.fillStyle = theme.mutedSolid;
    ctx.font = '12px ' + theme.font;
    ctx.textBaseline = 'middle';
    ctx.fillText(ellipsize(ctx, this.viewTitle(), g.width - 16), 8, 14);
    ctx.font = g.font + 'px ' + theme.font;
    var x0 = 8 + g.textWidth, x1 = x0 + this.linesWidth;
    g.list.forEach(function (unit, u) {
      var y = g.title + (u + 0.5) * g.rowHeight, text = ellipsize(ctx, tokenText(unit.label), g.textWidth - 12);
      ctx.fillStyle = unit.special ? theme.mutedSolid : theme.fgSolid;
      var bold = active && active.unit === u;
      ctx.font = (bold ? 'bold ' : '') + g.font + 'px ' + theme.font;
      ctx.textAlign = 'right';
      ctx.fillText(text, x0 - 6, y);
      ctx.textAlign = 'left';
      ctx.fillText(text, x1 + 6, y);
    });
    ctx.drawImage(this.linesCanvas, x0, g.title, this.linesWidth, g.list.length * g.rowHeight);
    return canvas;
  };

  Viewer.prototype.composeModel = function () {
    var meta = this.meta, theme = readTheme(this.root), size = this.thumbSize || 60, gap = 8;
    var cellWidth = size + gap, cellHeight = size + 30, left = 36, top = 40;
    var width = left + meta.heads * cellWidth + 8, height = top + meta.layers * cellHeight + 8;
    var canvas = document.createElement('canvas'), ctx = sizeCanvas(canvas, width, height), self = this;
    ctx.fillStyle = theme.bgSolid;
    ctx.fillRect(0, 0, width, height);
    ctx.font = '12px ' + theme.font;
    ctx.fillStyle = theme.mutedSolid;
    ctx.textBaseline = 'middle';
    var filters = this.filterText();
    ctx.fillText(ellipsize(ctx, (meta.model_name || meta.model) + ' \u00b7 ' + meta.example + ' \u00b7 every layer and head' +
      (filters.length ? ' \u00b7 ' + filters.join(' \u00b7 ') : ''), width - 16), 8, 12);
    ctx.font = '10px ' + theme.font;
    (this.thumbs || []).forEach(function (row, layer) {
      ctx.fillStyle = theme.mutedSolid;
      ctx.textAlign = 'left';
      ctx.fillText('L' + layer, 6, top + layer * cellHeight + size / 2);
      row.forEach(function (thumb, head) {
        var x = left + head * cellWidth, y = top + layer * cellHeight;
        ctx.drawImage(thumb.canvas, x, y, size, size);
        ctx.fillStyle = theme.fgSolid;
        ctx.textAlign = 'center';
        ctx.fillText('L' + layer + ' H' + head, x + size / 2, y + size + 8);
        ctx.fillStyle = theme.mutedSolid;
        ctx.fillText(ellipsize(ctx, self.headLabel(layer, head), size + gap - 2), x + size / 2, y + size + 20);
      });
    });
    return canvas;
  };

  Viewer.prototype.exportPNG = function () {
    var canvas = this.exportCanvas(), name = this.fileName('png');
    if (!canvas) {
      this.showMessage('Nothing to export in this view.', true);
      return;
    }
    if (canvas.toBlob) {
      canvas.toBlob(function (blob) {
        download(URL.createObjectURL(blob), name);
      }, 'image/png');
    } else {
      download(canvas.toDataURL('image/png'), name);
    }
  };

  /** The head view as SVG: one <line> per drawn link and <text> per token. */
  Viewer.prototype.headSVG = function () {
    var g = this.headGeometry(), theme = g.theme, x0 = 8 + g.textWidth, x1 = x0 + this.linesWidth, out = [];
    var y = function (u) {
      return (g.title + (u + 0.5) * g.rowHeight).toFixed(1);
    };
    out.push('<svg xmlns="' + svgNamespace() + '" width="' + g.width + '" height="' + g.height +
      '" viewBox="0 0 ' + g.width + ' ' + g.height + '" font-family="' + xmlEscape(theme.font) + '">');
    out.push('<rect width="100%" height="100%" fill="' + xmlEscape(theme.bgSolid) + '"/>');
    out.push('<text x="8" y="18" font-size="12" fill="' + xmlEscape(theme.mutedSolid) + '">' +
      xmlEscape(this.viewTitle()) + '</text>');
    var links = this.headLinks();
    for (var level = 1; level < links.levels.length; level++) {
      var edges = links.levels[level], w = level / 255;
      if (!edges) {
        continue;
      }
      for (var e = 0; e < edges.length; e += 3) {
        out.push('<line x1="' + x0 + '" y1="' + y(edges[e + 1]) + '" x2="' + x1 + '" y2="' + y(edges[e + 2]) +
          '" stroke="' + headColour(edges[e]) + '" stroke-opacity="' + w.toFixed(3) +
          '" stroke-width="' + (1 + 1.6 * w).toFixed(2) + '" data-head="' + edges[e] + '"/>');
      }
    }
    out.push('<g font-size="' + g.font + '" fill="' + xmlEscape(theme.fgSolid) + '">');
    g.list.forEach(function (unit, u) {
      var text = xmlEscape(tokenText(unit.label));
      out.push('<text x="' + (x0 - 6) + '" y="' + y(u) + '" dy="0.35em" text-anchor="end">' + text + '</text>');
      out.push('<text x="' + (x1 + 6) + '" y="' + y(u) + '" dy="0.35em">' + text + '</text>');
    });
    out.push('</g></svg>');
    return out.join('\n');
  };

  Viewer.prototype.exportSVG = function () {
    if (this.state.view !== 'head' || !this.layerData) {
      return;
    }
    var blob = new Blob([this.headSVG()], {type: 'image/svg+xml'});
    download(URL.createObjectURL(blob), this.fileName('svg'));
  };
})();
