/*
 * reportgen viewer scripts, attention links: which links the head view and the model view's line
 * thumbnails draw (strongest first, within a budget of stroked pixels) and how they are stroked.
 * Weights are handled on the uint8 storage grid: a weight w draws at level round(255 w).
 */
(function (root) {
  'use strict';

  var RG = root.ReportGenViewer = root.ReportGenViewer || {};
  var parts = RG.parts = RG.parts || {};
  if (parts.links) {
    return;
  }
  var headColour = parts.dom.headColour;

  var MIN_WEIGHT = 0.5 / 255;     // weights below this are stored as 0: never drawn
  var HEAD_PIXEL_BUDGET = 4e6;    // pixels of line the head view strokes per redraw (strongest first)
  var THUMB_PIXEL_BUDGET = 5e4;   // the same for one model-view thumbnail

  /** Drawing level of weight w: round(255 w) on the uint8 storage grid, kept within 1..255. */
  function weightLevel(w) {
    return Math.max(1, Math.min(255, Math.round(w * 255)));
  }

  /**
   * The top-X% cut of one attention row: the smallest weight among the strongest ones whose sum first
   * reaches `top` percent of the row's total `sum` (`values`: the row's positive weights, any order;
   * sorted in place). A weight at or above the cut is shown; Infinity for an empty row.
   */
  function topShareCut(values, sum, top) {
    values.sort(function (a, b) {
      return b - a;
    });
    var goal = sum * top / 100 - 1e-9, total = 0, cut = Infinity;
    for (var k = 0; k < values.length; k++) {
      total += values[k];
      cut = values[k];
      if (total >= goal) {
        break;
      }
    }
    return cut;
  }

  /**
   * Pick the links to draw: strongest first, until the summed line length reaches `budget` pixels
   * (software canvas rasterisation costs about one unit of time per pixel of line, so this bounds
   * the time of a redraw at any length). forEach(visit) calls visit(colour, i, j, w) per candidate.
   * Returns {levels: [level] -> [colour, i, j, ...], drawn, skipped, minWeight}.
   */
  function selectLinks(forEach, lengthOf, budget) {
    var counts = new Float64Array(256), lengths = new Float64Array(256), total = 0;
    forEach(function (colour, i, j, w) {
      var level = weightLevel(w);
      counts[level] += 1;
      lengths[level] += lengthOf(i, j);
      total += 1;
    });
    var minLevel = 1, spent = 0, level;
    for (level = 255; level >= 1; level--) {
      if (spent + lengths[level] > budget && spent > 0) {
        minLevel = level + 1;
        break;
      }
      spent += lengths[level];
    }
    var levels = [], drawn = 0;
    if (minLevel <= 255) {
      forEach(function (colour, i, j, w) {
        var level = weightLevel(w);
        if (level >= minLevel) {
          (levels[level] || (levels[level] = [])).push(colour, i, j);
          drawn += 1;
        }
      });
    }
    return {levels: levels, drawn: drawn, skipped: total - drawn, minWeight: (minLevel - 0.5) / 255};
  }

  /** Stroke selected links between two columns, faint ones first; y(i) gives a row's centre. */
  function drawLinks(ctx, links, x0, x1, y, alphaBoost) {
    ctx.lineCap = 'butt';
    for (var level = 1; level < links.levels.length; level++) {
      var edges = links.levels[level];
      if (!edges) {
        continue;
      }
      ctx.globalAlpha = Math.min(1, level / 255 + alphaBoost);
      ctx.lineWidth = 1 + 1.6 * level / 255;
      for (var e = 0; e < edges.length; e += 3) {
        ctx.strokeStyle = headColour(edges[e]);
        ctx.beginPath(); // one path per line: a single path of many crossing lines rasterises very slowly
        ctx.moveTo(x0, y(edges[e + 1]));
        ctx.lineTo(x1, y(edges[e + 2]));
        ctx.stroke();
      }
    }
    ctx.globalAlpha = 1;
  }

  parts.links = {
    MIN_WEIGHT: MIN_WEIGHT, HEAD_PIXEL_BUDGET: HEAD_PIXEL_BUDGET, THUMB_PIXEL_BUDGET: THUMB_PIXEL_BUDGET,
    weightLevel: weightLevel, topShareCut: topShareCut, selectLinks: selectLinks, drawLinks: drawLinks
  };
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = parts.links;
  }
})(typeof window !== 'undefined' ? window : globalThis);
