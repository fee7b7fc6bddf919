/*
 * reportgen viewer scripts, DOM and drawing helpers shared by the viewers and the training-run charts:
 * element creation, the head palette, number and token text, colours of the page theme, colour scales,
 * canvas sizing and downloads. Text from the data only ever reaches the page through textContent,
 * attribute values, canvas fillText or XML-escaped SVG.
 */
(function (root) {
  'use strict';

  var RG = root.ReportGenViewer = root.ReportGenViewer || {};
  var parts = RG.parts = RG.parts || {};
  if (parts.dom) {
    return;
  }

  // 16 colours that stay apart from each other and readable on light and dark backgrounds.
  var PALETTE = [
    '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
    '#bcbd22', '#17becf', '#f2c200', '#00897b', '#3f51b5', '#c2185b', '#9ccc65', '#ff8a80'
  ];

  /** Create an element. attrs: class, text (textContent), title, on* listeners, other attributes. */
  function el(tag, attrs, children) {
    var node = root.document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) {
        return;
      }
      if (name === 'class') {
        node.className = value;
      } else if (name === 'text') {
        node.textContent = String(value);
      } else if (name.slice(0, 2) === 'on') {
        node.addEventListener(name.slice(2), value);
      } else {
        node.setAttribute(name, value === true ? '' : String(value));
      }
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === 'string' ? root.document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function clamp(value, low, high) {
    return Math.max(low, Math.min(high, value));
  }

  /** Colour of head (or series) h: the palette, then hues spread by the golden angle. */
  function headColour(h) {
    if (h < PALETTE.length) {
      return PALETTE[h];
    }
    return 'hsl(' + Math.round((h * 137.508) % 360) + ', 62%, 50%)';
  }

  /** value.toFixed(digits), without a minus sign on values that round to 0. */
  function fixed(value, digits) {
    return (Math.abs(value) < 0.5 * Math.pow(10, -digits) ? 0 : value).toFixed(digits);
  }

  /** A small non-negative number, readably: 0.00123, 4.5e-7. */
  function smallNumber(value) {
    if (value === 0) {
      return '0';
    }
    return value >= 0.001 ? value.toFixed(5) : value.toExponential(1);
  }

  function xmlEscape(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    }).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd'); // eslint-disable-line no-control-regex
  }

  /** Single-line display text of a token (whitespace made visible, control characters replaced). */
  function tokenText(text) {
    text = String(text);
    if (text === '') {
      return '\u2205';
    }
    return text.replace(/[\u0000-\u001f\u007f]/g, function (c) { // eslint-disable-line no-control-regex
      return c === '\n' ? '\u21b5' : (c === '\t' ? '\u21e5' : '\ufffd');
    });
  }

  var colourProbe = null;

  /** [r, g, b] of a CSS colour composited over `under` ([r, g, b]). */
  function parseColour(colour, under) {
    if (!colourProbe) {
      var canvas = root.document.createElement('canvas');
      canvas.width = canvas.height = 1;
      colourProbe = canvas.getContext('2d', {willReadFrequently: true});
    }
    var ctx = colourProbe;
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, 1, 1);
    var p = ctx.getImageData(0, 0, 1, 1).data, a = p[3] / 255;
    under = under || [255, 255, 255];
    return [0, 1, 2].map(function (c) {
      return Math.round(p[c] * a + under[c] * (1 - a));
    });
  }

  function rgbText(rgb) {
    return 'rgb(' + rgb[0] + ',' + rgb[1] + ',' + rgb[2] + ')';
  }

  /** Colours of the Material palette (or the fallbacks in viewer.css), read at draw time. */
  function readTheme(node) {
    var style = root.getComputedStyle(node);
    function variable(name, fallback) {
      var value = style.getPropertyValue(name).trim();
      return value || fallback;
    }
    var theme = {
      fg: variable('--rg-fg', '#222'),
      muted: variable('--rg-fg-light', '#777'),
      faint: variable('--rg-fg-lightest', '#ddd'),
      bg: variable('--rg-bg', '#fff'),
      heat: variable('--rg-heat', '#1d4ed8'),
      pos: variable('--rg-pos', '#c62828'),
      neg: variable('--rg-neg', '#1565c0'),
      font: style.fontFamily || 'sans-serif'
    };
    theme.bgRGB = parseColour(theme.bg, [255, 255, 255]);
    theme.bgSolid = rgbText(theme.bgRGB);
    theme.fgRGB = parseColour(theme.fg, theme.bgRGB);
    theme.fgSolid = rgbText(theme.fgRGB);
    theme.mutedSolid = rgbText(parseColour(theme.muted, theme.bgRGB));
    theme.faintSolid = rgbText(parseColour(theme.faint, theme.bgRGB));
    theme.heatRGB = parseColour(theme.heat, theme.bgRGB);
    theme.posRGB = parseColour(theme.pos, theme.bgRGB);
    theme.negRGB = parseColour(theme.neg, theme.bgRGB);
    return theme;
  }

  /** Linear colour scale: [r, g, b] a share t (0..1) of the way from `from` to `to`, rounded. */
  function mix(from, to, t) {
    return [
      Math.round(from[0] + (to[0] - from[0]) * t),
      Math.round(from[1] + (to[1] - from[1]) * t),
      Math.round(from[2] + (to[2] - from[2]) * t)
    ];
  }

  /** Sequential scale of the heatmaps: weight w (clipped at 1) from the background to the heat colour. */
  function heatColour(bg, heat, w) {
    return mix(bg, heat, Math.min(1, w));
  }

  /**
   * Diverging scale of the neuron view: value / max clipped to [-1, 1]; positive values go from the
   * background towards `pos`, negative ones towards `neg`, by their size.
   */
  function divergingColour(bg, pos, neg, value, max) {
    var t = clamp(value / max, -1, 1);
    return mix(bg, t >= 0 ? pos : neg, Math.abs(t));
  }

  /** Size a canvas for the device pixel ratio; returns its 2D context scaled to CSS pixels. */
  function sizeCanvas(canvas, width, height, maxRatio) {
    var ratio = Math.min(root.devicePixelRatio || 1, maxRatio || 3);
    // Browsers refuse canvases beyond ~32k px a side: lower the resolution for very tall ones.
    ratio = Math.min(ratio, 32000 / Math.max(1, height), 32000 / Math.max(1, width));
    canvas.width = Math.max(1, Math.round(width * ratio));
    canvas.height = Math.max(1, Math.round(height * ratio));
    canvas.style.width = width + 'px';
    canvas.style.height = height + 'px';
    var ctx = canvas.getContext('2d');
    ctx.setTransform(canvas.width / width, 0, 0, canvas.height / height, 0, 0);
    return ctx;
  }

  function ellipsize(ctx, text, width) {
    if (ctx.measureText(text).width <= width) {
      return text;
    }
    var chars = Array.from(text);
    while (chars.length > 1 && ctx.measureText(chars.join('') + '\u2026').width > width) {
      chars.pop();
    }
    return chars.join('') + '\u2026';
  }

  function download(url, name) {
    var link = el('a', {href: url, download: name, class: 'rgv-hidden'});
    root.document.body.appendChild(link);
    link.click();
    root.document.body.removeChild(link);
    if (url.slice(0, 5) === 'blob:') {
      root.setTimeout(function () {
        URL.revokeObjectURL(url);
      }, 60000);
    }
  }

  /**
   * The SVG namespace name for exported files, asked from the browser's HTML parser (it puts <svg>
   * in that namespace), so that these scripts contain no URL-like string at all. Nothing is fetched.
   */
  function svgNamespace() {
    var probe = root.document.createElement('div');
    probe.innerHTML = '<svg></svg>'; // a constant, never data
    return probe.firstChild.namespaceURI;
  }

  /** A piece of a download's file name: runs of other characters than [A-Za-z0-9._-] become '_'. */
  function slugPart(text) {
    return String(text).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
  }

  parts.dom = {
    PALETTE: PALETTE, el: el, clamp: clamp, headColour: headColour, fixed: fixed, smallNumber: smallNumber,
    xmlEscape: xmlEscape, tokenText: tokenText, parseColour: parseColour, rgbText: rgbText,
    readTheme: readTheme, mix: mix, heatColour: heatColour, divergingColour: divergingColour,
    sizeCanvas: sizeCanvas, ellipsize: ellipsize, download: download, svgNamespace: svgNamespace,
    slugPart: slugPart
  };
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = parts.dom;
  }
})(typeof window !== 'undefined' ? window : globalThis);
