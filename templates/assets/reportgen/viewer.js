/*
 * reportgen attention viewers: head, model, neuron and matrix views.
 *
 * One classic script (no modules, no workers, no network). It must work from file://, so data
 * arrives as classic scripts that push plain objects onto the global queue window.RG_DATA
 * (see DEVELOPERS.md, "Viewer data files"):
 *   {kind: 'meta', key, model, example, layers, heads, n, causal, tokens, ..., layer_files, qk_files}
 *   {kind: 'layer', key, layer, data}      base64 uint8 [H, n, n] (or packed lower triangles)
 *   {kind: 'qk', key, layer, heads, n, d, q, k}   base64 float16 little-endian [H, n, d]
 *   {kind: 'rollout', key, layers, n, data}   base64 uint8 [L, n, n]: attention rollout up to each layer
 *   {kind: 'predictions', key, words: [{word, text, pieces, actual, top: [[token, prob], ...]}]}
 *   {kind: 'run', key, name, charts: [{key, title, what, log, series: [{name, points}]}], best}
 * Run objects feed the training-run charts of <div class="rg-run" data-run="KEY"> containers.
 * Meta scripts sit in the page; layer and q/k files are loaded on demand with <script src>.
 *
 * Each <div class="rg-viewer" data-example="SLUG" data-base="../data/"> becomes a viewer.
 * Text from the data (tokens, words, labels) only ever goes into the page through textContent,
 * attribute values, canvas fillText or XML-escaped SVG.
 *
 * Globals: window.RG_DATA (the queue) and window.ReportGenViewer (a small API, used by tests).
 * State lives in the URL hash: #model=M&example=E&view=head|model|neuron|matrix|rollout|predictions&layer=L&head=H&token=T
 */
(function () {
  'use strict';

  if (window.ReportGenViewer) {
    return; // loaded twice: the first copy already handles the queue
  }

  // ---------------------------------------------------------------------------------------------
  // Constants
  // ---------------------------------------------------------------------------------------------

  var VIEWS = ['head', 'model', 'neuron', 'matrix', 'rollout', 'predictions'];
  var VIEW_TITLES = {head: 'Head', model: 'Model', neuron: 'Neuron', matrix: 'Matrix', rollout: 'Rollout',
    predictions: 'Predictions'};
  var DATA_KINDS = {layer: 'attention', qk: 'query/key', rollout: 'rollout', predictions: 'predictions'};
  var FILTERS = [
    ['all', 'All pairs'], ['aa', 'A \u2192 A'], ['bb', 'B \u2192 B'], ['ab', 'A \u2192 B'], ['ba', 'B \u2192 A']
  ];
  var SPECIAL_MODES = [
    ['show', 'Show special tokens'], ['hide', 'Hide special tokens'],
    ['renorm', 'Hide special tokens, renormalise rows']
  ];
  // 16 colours that stay apart from each other and readable on light and dark backgrounds.
  var PALETTE = [
    '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
    '#bcbd22', '#17becf', '#f2c200', '#00897b', '#3f51b5', '#c2185b', '#9ccc65', '#ff8a80'
  ];
  var MIN_WEIGHT = 0.5 / 255;     // weights below this are stored as 0: never drawn
  var TOP_HELP = 'Top X% of attention: for each source token, only its strongest links that ' +
    'together hold X% of that token\'s attention are drawn (100% draws every link). ' +
    'Computed after the special-token and word options.';
  var HEAD_HELP = 'Click a colour block to show or hide that head; double-click to show it alone.';
  var DECODED_BUDGET = 400 * 1024 * 1024; // bytes of decoded layers kept in memory
  var HEAD_PIXEL_BUDGET = 4e6;    // pixels of line the head view strokes per redraw (strongest first)
  var THUMB_PIXEL_BUDGET = 5e4;   // the same for one model-view thumbnail

  // ---------------------------------------------------------------------------------------------
  // Data queue and on-demand loading
  // ---------------------------------------------------------------------------------------------

  var metas = {};          // key -> meta object
  var metaOrder = [];      // keys in order of arrival (page order)
  var raw = {};            // 'layer|KEY|L' or 'qk|KEY|L' -> data object as pushed
  var decoded = {};        // same ids -> decoded typed arrays
  var decodedOrder = [];   // ids, oldest first (memory budget)
  var decodedBytes = 0;
  var pending = {};        // ids -> promise of decoded data
  var scriptLoads = {};    // data file path -> promise that its script has run
  var viewers = [];
  var runData = {};        // training runs: key -> run object
  var runCharts = [];      // RunCharts instances on this page

  function receive(item) {
    if (!item || typeof item !== 'object') {
      return;
    }
    if (item.kind === 'meta' && typeof item.key === 'string') {
      if (!metas[item.key]) {
        metaOrder.push(item.key);
      }
      metas[item.key] = item;
      viewers.forEach(function (viewer) {
        if (viewer.example === item.example) {
          viewer.metasChanged();
        }
      });
    } else if ((item.kind === 'layer' || item.kind === 'qk') && typeof item.key === 'string') {
      raw[item.kind + '|' + item.key + '|' + item.layer] = item;
    } else if ((item.kind === 'rollout' || item.kind === 'predictions') && typeof item.key === 'string') {
      raw[item.kind + '|' + item.key + '|0'] = item;
    } else if (item.kind === 'run' && typeof item.key === 'string') {
      runData[item.key] = item;
      runCharts.forEach(function (chart) {
        if (chart.key === item.key) {
          chart.start();
        }
      });
    }
  }

  var queue = window.RG_DATA = window.RG_DATA || [];
  queue.splice(0).forEach(receive);
  queue.push = function () {
    for (var i = 0; i < arguments.length; i++) {
      receive(arguments[i]);
    }
    return queue.length;
  };

  function base64Bytes(text) {
    var binary = window.atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  function float16(bits) {
    var sign = (bits & 0x8000) ? -1 : 1;
    var exponent = (bits >> 10) & 0x1f;
    var fraction = bits & 0x3ff;
    if (exponent === 0) {
      return sign * fraction * Math.pow(2, -24);
    }
    if (exponent === 31) {
      return fraction ? NaN : sign * Infinity;
    }
    return sign * (1 + fraction / 1024) * Math.pow(2, exponent - 15);
  }

  function float16Array(bytes) {
    var out = new Float64Array(bytes.length >> 1);
    for (var i = 0; i < out.length; i++) {
      out[i] = float16(bytes[2 * i] | (bytes[2 * i + 1] << 8));
    }
    return out;
  }

  function isLower(meta) {
    if (meta.quant && meta.quant.packing) {
      return meta.quant.packing === 'lower';
    }
    return !!meta.causal;
  }

  /** uint8 [H, n, n] of one layer, unpacking lower triangles when the file holds only those. */
  function decodeLayer(meta, item) {
    var n = meta.n, heads = meta.heads, bytes = base64Bytes(item.data);
    var lower = isLower(meta), per = lower ? n * (n + 1) / 2 : n * n;
    if (bytes.length !== heads * per) {
      throw new Error('Layer ' + item.layer + ' of ' + meta.key + ' holds ' + bytes.length +
        ' bytes; expected ' + heads * per + '.');
    }
    if (!lower) {
      return bytes;
    }
    var out = new Uint8Array(heads * n * n), src = 0;
    for (var h = 0; h < heads; h++) {
      for (var i = 0; i < n; i++) {
        out.set(bytes.subarray(src, src + i + 1), (h * n + i) * n);
        src += i + 1;
      }
    }
    return out;
  }

  function decodeQK(meta, item) {
    var q = float16Array(base64Bytes(item.q)), k = float16Array(base64Bytes(item.k));
    var size = item.heads * item.n * item.d;
    if (q.length !== size || k.length !== size || item.n !== meta.n) {
      throw new Error('Query/key data of layer ' + item.layer + ' does not match ' + meta.key + '.');
    }
    return {heads: item.heads, n: item.n, d: item.d, q: q, k: k};
  }

  function byteSize(value) {
    if (value.byteLength) {
      return value.byteLength;
    }
    return value.q ? value.q.byteLength + value.k.byteLength : (value.size || 1024);
  }

  function remember(id, value) {
    decoded[id] = value;
    decodedOrder.push(id);
    decodedBytes += byteSize(value);
    while (decodedBytes > DECODED_BUDGET && decodedOrder.length > 1) {
      var old = decodedOrder.shift(), gone = decoded[old];
      delete decoded[old];
      decodedBytes -= byteSize(gone);
    }
    return value;
  }

  /** uint8 [L, n, n] rollout of one (model, example). */
  function decodeRollout(meta, item) {
    var bytes = base64Bytes(item.data), size = meta.layers * meta.n * meta.n;
    if (bytes.length !== size || item.n !== meta.n) {
      throw new Error('Rollout data of ' + meta.key + ' holds ' + bytes.length + ' bytes; expected ' + size + '.');
    }
    return bytes;
  }

  function decodePredictions(meta, item) {
    if (!Array.isArray(item.words)) {
      throw new Error('Prediction data of ' + meta.key + ' has no word list.');
    }
    return {words: item.words, size: 64 * item.words.length + 1024};
  }

  function takeRaw(meta, kind, id) {
    var item = raw[id];
    delete raw[id]; // the base64 text is not needed once decoded
    var decoders = {layer: decodeLayer, qk: decodeQK, rollout: decodeRollout, predictions: decodePredictions};
    return remember(id, decoders[kind](meta, item));
  }

  function dataFile(meta, kind, layer) {
    if (kind === 'layer') {
      return (meta.layer_files || [])[layer];
    }
    if (kind === 'rollout') {
      return meta.rollout_file || null;
    }
    if (kind === 'predictions') {
      return meta.predictions && meta.predictions.file || null;
    }
    return (meta.qk_files || {})[String(layer)];
  }

  function dataPath(base, meta, file) {
    return base + encodeURIComponent(meta.model) + '/' + encodeURIComponent(meta.example) + '/' +
      encodeURIComponent(file);
  }

  /**
   * Promise that the data script at ``path`` has run. A small example keeps all its layers in one file
   * (``meta.layer_files`` then names the same file for every layer): it is loaded once, however many
   * layers ask for it at the same time.
   */
  function loadScript(path) {
    if (!scriptLoads[path]) {
      scriptLoads[path] = new Promise(function (resolve, reject) {
        var script = document.createElement('script');
        script.src = path;
        script.async = true;
        script.onload = function () {
          script.parentNode.removeChild(script);
          delete scriptLoads[path];
          resolve();
        };
        script.onerror = function () {
          script.parentNode.removeChild(script);
          delete scriptLoads[path];
          reject(new Error('Could not load ' + path));
        };
        document.head.appendChild(script);
      });
    }
    return scriptLoads[path];
  }

  /** Promise of the decoded layer (kind 'layer') or query/key vectors (kind 'qk'). */
  function load(meta, base, kind, layer) {
    var id = kind + '|' + meta.key + '|' + layer;
    if (decoded[id]) {
      return Promise.resolve(decoded[id]);
    }
    if (raw[id]) {
      try {
        return Promise.resolve(takeRaw(meta, kind, id));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (pending[id]) {
      return pending[id];
    }
    var file = dataFile(meta, kind, layer);
    if (!file) {
      return Promise.reject(new Error('No ' + DATA_KINDS[kind] + ' file for layer ' + layer + '.'));
    }
    var promise = loadScript(dataPath(base, meta, file)).then(function () {
      if (decoded[id]) {
        return decoded[id];
      }
      if (raw[id]) {
        return takeRaw(meta, kind, id);
      }
      throw new Error('The data file ' + file + ' did not contain the ' + DATA_KINDS[kind] + ' data' +
        (kind === 'layer' || kind === 'qk' ? ' of layer ' + layer : '') + ' of ' + meta.key + '.');
    }, function () {
      throw new Error('Could not load the data file ' + file + ' (' + meta.key + ').');
    });
    pending[id] = promise;
    promise.then(function () {
      delete pending[id];
    }, function () {
      delete pending[id];
    });
    return promise;
  }

  function cachedLayer(meta, layer) {
    var id = 'layer|' + meta.key + '|' + layer;
    if (decoded[id]) {
      return decoded[id];
    }
    if (raw[id]) {
      try {
        return takeRaw(meta, 'layer', id);
      } catch (err) {
        return null;
      }
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // Small helpers
  // ---------------------------------------------------------------------------------------------

  /** Create an element. attrs: class, text (textContent), title, on* listeners, other attributes. */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
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
        node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function clamp(value, low, high) {
    return Math.max(low, Math.min(high, value));
  }

  function headColour(h) {
    if (h < PALETTE.length) {
      return PALETTE[h];
    }
    return 'hsl(' + Math.round((h * 137.508) % 360) + ', 62%, 50%)';
  }

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
    }).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');
  }

  /** Single-line display text of a token (whitespace made visible, control characters replaced). */
  function tokenText(text) {
    text = String(text);
    if (text === '') {
      return '\u2205';
    }
    return text.replace(/[\u0000-\u001f\u007f]/g, function (c) {
      return c === '\n' ? '\u21b5' : (c === '\t' ? '\u21e5' : '\ufffd');
    });
  }

  var colourProbe = null;

  /** [r, g, b] of a CSS colour composited over `under` ([r, g, b]). */
  function parseColour(colour, under) {
    if (!colourProbe) {
      var canvas = document.createElement('canvas');
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
    var style = window.getComputedStyle(node);
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

  function mix(from, to, t) {
    return [
      Math.round(from[0] + (to[0] - from[0]) * t),
      Math.round(from[1] + (to[1] - from[1]) * t),
      Math.round(from[2] + (to[2] - from[2]) * t)
    ];
  }

  /** Size a canvas for the device pixel ratio; returns its 2D context scaled to CSS pixels. */
  function sizeCanvas(canvas, width, height, maxRatio) {
    var ratio = Math.min(window.devicePixelRatio || 1, maxRatio || 3);
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
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
    if (url.slice(0, 5) === 'blob:') {
      window.setTimeout(function () {
        URL.revokeObjectURL(url);
      }, 60000);
    }
  }

  /**
   * The SVG namespace name for exported files, asked from the browser's HTML parser (it puts <svg>
   * in that namespace), so that this bundle contains no URL-like string at all. Nothing is fetched.
   */
  function svgNamespace() {
    var probe = document.createElement('div');
    probe.innerHTML = '<svg></svg>'; // a constant, never data
    return probe.firstChild.namespaceURI;
  }

  function slugPart(text) {
    return String(text).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
  }

  function parseHash(hash) {
    var out = {};
    String(hash || '').replace(/^#/, '').split('&').forEach(function (part) {
      if (!part) {
        return;
      }
      var at = part.indexOf('='), name = at < 0 ? part : part.slice(0, at);
      var value = at < 0 ? '' : part.slice(at + 1);
      try {
        out[decodeURIComponent(name)] = decodeURIComponent(value.replace(/\+/g, ' '));
      } catch (err) {
        // malformed escape: ignore this part
      }
    });
    return out;
  }

  function intOr(value, fallback) {
    var number = parseInt(value, 10);
    return (typeof value === 'string' && /^-?\d+$/.test(value.trim())) || typeof value === 'number'
      ? number : fallback;
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
      var level = Math.max(1, Math.min(255, Math.round(w * 255)));
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
        var level = Math.max(1, Math.min(255, Math.round(w * 255)));
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

  // ---------------------------------------------------------------------------------------------
  // The viewer
  // ---------------------------------------------------------------------------------------------

  function Viewer(root) {
    this.root = root;
    this.example = root.getAttribute('data-example') || '';
    this.base = root.getAttribute('data-base') || '';
    this.meta = null;
    this.state = {
      view: 'head', layer: 0, heads: [], token: -1, dir: 'from',
      filter: 'all', special: 'show', words: false, top: 100, thumbs: 'auto', zoom: 'fit'
    };
    this.hover = null;          // {side: 'from'|'to', unit} while the mouse is on a head-view token
    this.drawn = 0;
    this.generation = 0;
    this.edges = 0;             // edges drawn by the last head-view draw
    this.neuronResult = null;   // numbers of the last neuron-view draw
    this.error = null;
    this.readyPromise = new Promise(function (resolve) {
      this.resolveReady = resolve;
    }.bind(this));
    this.cache = {};
    root.classList.add('rgv-root');
    root.setAttribute('data-rg-drawn', '0');
    this.build();
    this.metasChanged();
  }

  // ----- building the DOM ------------------------------------------------------------------------

  Viewer.prototype.build = function () {
    var self = this, root = this.root;
    root.textContent = '';

    function control(views, label, input, title) {
      return el('label', {class: 'rgv-control', 'data-views': views, title: title}, [
        el('span', {class: 'rgv-control-label', text: label}), input
      ]);
    }

    this.modelSelect = el('select', {'aria-label': 'Model', onchange: function () {
      self.set({key: self.modelSelect.value});
    }});
    this.modelControl = control('head model neuron matrix rollout predictions', 'Model', this.modelSelect);

    this.tabs = {};
    var tabBar = el('div', {class: 'rgv-tabs', role: 'tablist'});
    VIEWS.forEach(function (view) {
      var tab = el('button', {
        type: 'button', class: 'rgv-tab', role: 'tab', 'data-view': view, text: VIEW_TITLES[view],
        onclick: function () {
          self.set({view: view});
        }
      });
      self.tabs[view] = tab;
      tabBar.appendChild(tab);
    });

    this.pngButton = el('button', {type: 'button', class: 'rgv-button', text: 'PNG',
      title: 'Save the current view as a PNG image', onclick: function () {
        self.exportPNG();
      }});
    this.svgButton = el('button', {type: 'button', class: 'rgv-button', text: 'SVG', 'data-views': 'head',
      title: 'Save the head view as an SVG drawing', onclick: function () {
        self.exportSVG();
      }});

    root.appendChild(el('div', {class: 'rgv-bar'}, [
      tabBar, this.modelControl, el('span', {class: 'rgv-spacer'}), this.pngButton, this.svgButton
    ]));

    this.layerSelect = el('select', {'aria-label': 'Layer', onchange: function () {
      self.set({layer: +self.layerSelect.value});
    }});
    this.headSelect = el('select', {'aria-label': 'Head', onchange: function () {
      self.set({heads: self.solo(+self.headSelect.value)});
    }});
    this.tokenSelect = el('select', {'aria-label': 'Query token', class: 'rgv-token-select', onchange: function () {
      self.set({token: +self.tokenSelect.value, dir: 'from'});
    }});
    this.filterSelect = el('select', {'aria-label': 'Sentence pairs', onchange: function () {
      self.set({filter: self.filterSelect.value});
    }});
    FILTERS.forEach(function (f) {
      self.filterSelect.appendChild(el('option', {value: f[0], text: f[1]}));
    });
    this.specialSelect = el('select', {'aria-label': 'Special tokens', onchange: function () {
      self.set({special: self.specialSelect.value, token: -1});
    }});
    SPECIAL_MODES.forEach(function (f) {
      self.specialSelect.appendChild(el('option', {value: f[0], text: f[1]}));
    });
    this.wordsBox = el('input', {type: 'checkbox', onchange: function () {
      self.set({words: self.wordsBox.checked});
    }});
    this.topRange = el('input', {type: 'range', min: 1, max: 100, step: 1, value: 100, title: TOP_HELP,
      'aria-label': 'Top percent of attention', oninput: function () {
        self.set({top: +self.topRange.value});
      }});
    this.topValue = el('output', {class: 'rgv-top-value', text: '100%'});
    this.thumbSelect = el('select', {'aria-label': 'Thumbnails', onchange: function () {
      self.set({thumbs: self.thumbSelect.value});
    }}, [
      el('option', {value: 'auto', text: 'Automatic'}), el('option', {value: 'lines', text: 'Lines'}),
      el('option', {value: 'heatmap', text: 'Heatmaps'})
    ]);
    this.zoomSelect = el('select', {'aria-label': 'Cell size', onchange: function () {
      self.set({zoom: self.zoomSelect.value});
    }}, ['fit', '2', '4', '8', '16', '24'].map(function (z) {
      return el('option', {value: z, text: z === 'fit' ? 'Fit width' : z + ' px per cell'});
    }));

    root.appendChild(el('div', {class: 'rgv-controls'}, [
      control('head neuron matrix rollout', 'Layer', this.layerSelect, 'Layers are numbered from 0 (exBERT counts from 1).'),
      control('neuron matrix', 'Head', this.headSelect, 'Heads are numbered from 0 (exBERT counts from 1).'),
      control('neuron', 'Query', this.tokenSelect, 'The token whose attention is explained'),
      control('head', 'Pairs', this.filterSelect, 'Only links between the chosen sentences'),
      control('head matrix rollout', 'Special', this.specialSelect,
        'Hide [CLS]/[SEP]-like tokens; "renormalise" rescales each row to sum to 1 without them'),
      control('head matrix rollout', 'Words', this.wordsBox,
        'Merge word pieces into words (Clark et al. 2019): attention from a word is the mean over its ' +
        'pieces, attention to a word is the sum over its pieces. Special tokens stay as they are.'),
      el('label', {class: 'rgv-control', 'data-views': 'head', title: TOP_HELP}, [
        el('span', {class: 'rgv-control-label', text: 'Top'}), this.topRange, this.topValue
      ]),
      control('model', 'Thumbnails', this.thumbSelect, 'Line plots like BertViz, or heatmaps'),
      control('matrix rollout', 'Zoom', this.zoomSelect, 'Size of one matrix cell')
    ]));

    this.headBar = el('div', {class: 'rgv-heads', 'data-views': 'head', title: HEAD_HELP});
    root.appendChild(this.headBar);

    this.message = el('div', {class: 'rgv-message', role: 'status'});
    root.appendChild(this.message);

    // Head view: token columns with a line canvas between them, and a side panel of numbers.
    this.leftColumn = el('div', {class: 'rgv-col rgv-from', 'data-side': 'from'});
    this.rightColumn = el('div', {class: 'rgv-col rgv-to', 'data-side': 'to'});
    this.linesCanvas = el('canvas', {class: 'rgv-lines', 'aria-label': 'Attention lines'});
    this.linesWidth = 240;
    this.panel = el('div', {class: 'rgv-panel', 'aria-live': 'polite'});
    [this.leftColumn, this.rightColumn].forEach(function (column) {
      column.addEventListener('mouseover', function (event) {
        var token = event.target.closest && event.target.closest('.rgv-tok');
        if (token && column.contains(token)) {
          self.setHover({side: column.getAttribute('data-side'), unit: +token.getAttribute('data-unit')});
        }
      });
      column.addEventListener('mouseleave', function () {
        self.setHover(null);
      });
      column.addEventListener('click', function (event) {
        var token = event.target.closest && event.target.closest('.rgv-tok');
        if (token && column.contains(token)) {
          self.pin(column.getAttribute('data-side'), +token.getAttribute('data-unit'));
        }
      });
    });
    this.panes = {};
    this.panes.head = el('div', {class: 'rgv-pane rgv-head-pane'}, [
      el('div', {class: 'rgv-head-body'}, [
        this.graph = el('div', {class: 'rgv-head-graph'}, [
          el('div', {class: 'rgv-col-title rgv-from', text: 'from'}),
          el('div', {class: 'rgv-col-title rgv-mid'}),
          el('div', {class: 'rgv-col-title rgv-to', text: 'to'}),
          this.leftColumn, this.linesCanvas, this.rightColumn
        ]),
        this.panel
      ])
    ]);

    // Model view: grid of thumbnails.
    this.grid = el('div', {class: 'rgv-model-grid'});
    this.panes.model = el('div', {class: 'rgv-pane rgv-model-pane'}, [
      el('p', {class: 'rgv-hint', text: 'Every head of every layer. Click a thumbnail to open it in the head view. ' +
        'Numbers are 0-based (L0 H0 is exBERT\u2019s <1,1>).'}),
      this.grid
    ]);

    // Neuron view: one canvas plus a hover readout.
    this.neuronCanvas = el('canvas', {class: 'rgv-neuron-canvas', 'aria-label': 'Query and key vectors'});
    this.neuronReadout = el('div', {class: 'rgv-readout', 'aria-live': 'polite'});
    this.neuronSummary = el('div', {class: 'rgv-summary'});
    this.neuronCanvas.addEventListener('mousemove', function (event) {
      self.neuronHover(event);
    });
    this.neuronCanvas.addEventListener('mouseleave', function () {
      self.neuronReadout.textContent = '\u00a0';
    });
    this.panes.neuron = el('div', {class: 'rgv-pane rgv-neuron-pane'}, [
      this.neuronSummary, this.neuronReadout,
      el('div', {class: 'rgv-scroll'}, [this.neuronCanvas])
    ]);

    // Matrix view: heatmap canvas with axis labels, a hover box and readout.
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
    this.panes.matrix = el('div', {class: 'rgv-pane rgv-matrix-pane'}, [
      el('div', {class: 'rgv-matrix-top'}, [this.matrixReadout, this.matrixLegend]),
      el('div', {class: 'rgv-scroll'}, [
        el('div', {class: 'rgv-matrix-wrap'}, [this.matrixCanvas, this.matrixCursor])
      ])
    ]);

    this.matrixTarget = {canvas: this.matrixCanvas, cursor: this.matrixCursor, readout: this.matrixReadout,
      legend: this.matrixLegend, pane: this.panes.matrix, geometry: null};
    this.buildBeyond();

    VIEWS.forEach(function (view) {
      root.appendChild(self.panes[view]);
    });
    this.note = el('div', {class: 'rgv-precision'});
    root.appendChild(this.note);
  };

  // ----- models and state -------------------------------------------------------------------------

  Viewer.prototype.candidates = function () {
    var example = this.example;
    return metaOrder.filter(function (key) {
      return metas[key].example === example;
    }).map(function (key) {
      return metas[key];
    });
  };

  Viewer.prototype.metasChanged = function () {
    var self = this, list = this.candidates();
    this.modelSelect.textContent = '';
    list.forEach(function (meta) {
      self.modelSelect.appendChild(el('option', {value: meta.key, text: meta.model_name || meta.model}));
    });
    this.modelControl.classList.toggle('rgv-hidden', list.length < 2);
    this.modelControl.setAttribute('data-single', list.length < 2 ? '1' : '0');
    if (!this.meta && list.length && this.started) {
      this.root.classList.remove('rgv-empty');
      this.showMessage('');
      this.useMeta(list[0]);
      this.syncControls();
      this.render();
    }
    if (this.meta) {
      this.modelSelect.value = this.meta.key;
    }
  };

  /** Start: pick the model, apply the URL hash, draw. Called once the page is parsed. */
  Viewer.prototype.start = function (hash) {
    var list = this.candidates();
    this.started = true;
    if (!list.length) {
      this.root.classList.add('rgv-empty');
      this.showMessage('No attention data for this example was loaded.', true);
      this.markDrawn();
      return;
    }
    this.useMeta(list[0]);
    if (hash) {
      this.applyHash(hash, true);
    }
    this.syncControls();
    this.render();
  };

  Viewer.prototype.useMeta = function (meta) {
    var self = this, s = this.state, previous = this.meta;
    this.meta = meta;
    this.cache = {};
    this.hover = null;
    this.layerData = null;
    this.neuronResult = null;
    if (!previous || previous.heads !== meta.heads) {
      s.heads = [];
      for (var h = 0; h < meta.heads; h++) {
        s.heads.push(true);
      }
    }
    if (!previous || previous.n !== meta.n) {
      s.token = -1;
    }
    s.layer = clamp(s.layer, 0, meta.layers - 1);

    this.layerSelect.textContent = '';
    for (var l = 0; l < meta.layers; l++) {
      this.layerSelect.appendChild(el('option', {value: l, text: 'Layer ' + l}));
    }
    this.tokenSelect.textContent = '';
    meta.tokens.forEach(function (token, i) {
      self.tokenSelect.appendChild(el('option', {value: i, dir: 'auto', text: i + ': ' + tokenText(token)}));
    });
    this.modelSelect.value = meta.key;

    var maxError = meta.quant && meta.quant.max_error ? meta.quant.max_error : 1 / 510;
    this.maxError = maxError;
    var noteText = 'Attention stored as uint8 (' + (meta.quant && meta.quant.scheme || 'uint8-linear') +
      ', ' + (isLower(meta) ? 'lower triangle' : 'full matrix') + '): every weight shown is within \u00b1' +
      maxError.toFixed(5) + ' of the model\u2019s value.';
    this.qkError = meta.quant && typeof meta.quant.qk_max_error === 'number' ? meta.quant.qk_max_error : null;
    if (meta.qk_files && Object.keys(meta.qk_files).length) {
      noteText += ' Neuron view: query and key vectors are stored as float16' + (this.qkError === null ? '.'
        : '; softmax(q\u00b7k/\u221ad) computed from them is within \u00b1' + smallNumber(this.qkError) +
        ' of the model\u2019s attention.');
    }
    this.note.textContent = noteText;
    this.buildHeadBar();
  };

  Viewer.prototype.buildHeadBar = function () {
    var self = this, meta = this.meta;
    this.headBar.textContent = '';
    this.headBar.appendChild(el('span', {class: 'rgv-control-label', text: 'Heads'}));
    this.headButtons = [];
    for (var h = 0; h < meta.heads; h++) {
      (function (h) {
        var button = el('button', {
          type: 'button', class: 'rgv-head-block', 'data-head': h, text: String(h),
          'aria-pressed': 'true',
          onclick: function () {
            var heads = self.state.heads.slice();
            heads[h] = !heads[h];
            self.set({heads: heads});
          },
          ondblclick: function () {
            self.set({heads: self.solo(h)});
          }
        });
        button.style.setProperty('--rgv-head', headColour(h));
        self.headButtons.push(button);
        self.headBar.appendChild(button);
      })(h);
    }
    this.headBar.appendChild(el('button', {type: 'button', class: 'rgv-button rgv-small', text: 'All',
      title: 'Show every head', onclick: function () {
        self.set({heads: self.state.heads.map(function () {
          return true;
        })});
      }}));
    this.headBar.appendChild(el('button', {type: 'button', class: 'rgv-button rgv-small', text: 'None',
      title: 'Hide every head', onclick: function () {
        self.set({heads: self.state.heads.map(function () {
          return false;
        })});
      }}));
  };

  Viewer.prototype.solo = function (h) {
    var heads = [];
    for (var i = 0; i < this.meta.heads; i++) {
      heads.push(i === h);
    }
    return heads;
  };

  Viewer.prototype.selectedHeads = function () {
    var out = [];
    this.state.heads.forEach(function (on, h) {
      if (on) {
        out.push(h);
      }
    });
    return out;
  };

  /** The one head shown by the neuron and matrix views. */
  Viewer.prototype.focusHead = function () {
    var selected = this.selectedHeads();
    return selected.length ? selected[0] : 0;
  };

  /** Change state, keep it valid, mirror it in the controls and the URL, redraw. */
  Viewer.prototype.set = function (changes, options) {
    var s = this.state, meta = this.meta;
    options = options || {};
    if (changes.key !== undefined && metas[changes.key] && metas[changes.key].example === this.example &&
        (!meta || changes.key !== meta.key)) {
      this.useMeta(metas[changes.key]);
      meta = this.meta;
    }
    Object.keys(changes).forEach(function (name) {
      if (name !== 'key') {
        s[name] = changes[name];
      }
    });
    if (!meta) {
      return;
    }
    if (VIEWS.indexOf(s.view) < 0) {
      s.view = 'head';
    }
    s.layer = clamp(s.layer | 0, 0, meta.layers - 1);
    if (!Array.isArray(s.heads) || s.heads.length !== meta.heads) {
      s.heads = this.solo(-1).map(function () {
        return true;
      });
    }
    if ((s.view === 'neuron' || s.view === 'matrix') && this.selectedHeads().length !== 1) {
      s.heads = this.solo(this.focusHead());
    }
    s.token = (s.token | 0) >= 0 && (s.token | 0) < meta.n ? s.token | 0 : -1;
    s.dir = s.dir === 'to' ? 'to' : 'from';
    s.top = clamp(+s.top || 100, 1, 100);
    if (changes.view !== undefined || changes.layer !== undefined || changes.key !== undefined) {
      this.hover = null;
    }
    this.syncControls();
    if (!options.fromHash) {
      this.writeHash();
    }
    this.render();
  };

  Viewer.prototype.syncControls = function () {
    var s = this.state, self = this;
    if (!this.meta) {
      return;
    }
    VIEWS.forEach(function (view) {
      var on = view === s.view;
      self.tabs[view].setAttribute('aria-selected', on ? 'true' : 'false');
      self.tabs[view].classList.toggle('rgv-active', on);
      self.panes[view].classList.toggle('rgv-hidden', !on);
    });
    this.root.setAttribute('data-rg-view', s.view);
    Array.prototype.forEach.call(this.root.querySelectorAll('[data-views]'), function (node) {
      var views = node.getAttribute('data-views').split(' ');
      var hidden = views.indexOf(s.view) < 0 || node.getAttribute('data-single') === '1';
      node.classList.toggle('rgv-hidden', hidden);
    });
    this.layerSelect.value = String(s.layer);
    this.headSelect.textContent = '';
    for (var h = 0; h < this.meta.heads; h++) {
      var label = this.headLabel(s.layer, h);
      this.headSelect.appendChild(el('option', {value: h, text: 'Head ' + h + (label ? ' \u00b7 ' + label : '')}));
    }
    this.headSelect.value = String(this.focusHead());
    this.tokenSelect.value = String(s.token >= 0 ? s.token : this.defaultQuery());
    this.filterSelect.value = s.filter;
    this.specialSelect.value = s.special;
    this.wordsBox.checked = !!s.words;
    this.topRange.value = String(s.top);
    this.topValue.textContent = s.top + '%';
    this.thumbSelect.value = s.thumbs;
    this.zoomSelect.value = s.zoom;
    (this.headButtons || []).forEach(function (button, h) {
      var on = !!s.heads[h], label = self.headLabel(s.layer, h);
      button.classList.toggle('rgv-off', !on);
      button.setAttribute('aria-pressed', on ? 'true' : 'false');
      button.title = 'Head ' + h + ' (layer ' + s.layer + ', exBERT <' + (s.layer + 1) + ',' + (h + 1) + '>)' +
        (label ? ': ' + label : '') + '. ' + HEAD_HELP;
    });
  };

  Viewer.prototype.headLabel = function (layer, head) {
    var labels = this.meta && this.meta.labels;
    var value = labels && labels[layer] ? labels[layer][head] : null;
    return value ? String(value) : '';
  };

  Viewer.prototype.defaultQuery = function () {
    var meta = this.meta;
    for (var i = 0; i < meta.n; i++) {
      if (!meta.special[i]) {
        return i;
      }
    }
    return 0;
  };

  // ----- URL hash ---------------------------------------------------------------------------------

  Viewer.prototype.hashText = function () {
    var s = this.state, parts = [
      'model=' + encodeURIComponent(this.meta.model),
      'example=' + encodeURIComponent(this.meta.example),
      'view=' + s.view,
      'layer=' + s.layer
    ];
    var selected = this.selectedHeads();
    if (selected.length === 1) {
      parts.push('head=' + selected[0]);
    }
    if (s.token >= 0) {
      parts.push('token=' + s.token);
      if (s.dir === 'to') {
        parts.push('dir=to');
      }
    }
    return '#' + parts.join('&');
  };

  Viewer.prototype.writeHash = function () {
    if (!this.meta || viewers[0] !== this && !this.ownsHash) {
      return; // several viewers on one page: only the first one owns the hash
    }
    var text = this.hashText();
    if (window.location.hash === text) {
      return;
    }
    try {
      window.history.replaceState(window.history.state, '', text);
    } catch (err) {
      // some embedders forbid history changes: the state then just is not shareable
    }
  };

  /** Apply a parsed hash; returns false if it names another example. */
  Viewer.prototype.applyHash = function (hash, initial) {
    var p = parseHash(hash), meta = this.meta, changes = {};
    if (!meta || !(p.view || p.layer || p.head || p.token || p.model || p.example)) {
      return false;
    }
    if (p.example && p.example !== this.example) {
      return false;
    }
    if (p.model) {
      var key = p.model + '/' + this.example;
      if (!metas[key]) {
        key = this.candidates().filter(function (m) {
          return m.model === p.model;
        }).map(function (m) {
          return m.key;
        })[0];
      }
      if (key) {
        changes.key = key;
      }
    }
    if (VIEWS.indexOf(p.view) >= 0) {
      changes.view = p.view;
    }
    var layer = intOr(p.layer, null);
    if (layer !== null) {
      changes.layer = layer;
    }
    var heads = (changes.key ? metas[changes.key] : meta).heads;
    var head = intOr(p.head, null);
    if (head !== null && head >= 0 && head < heads) {
      changes.heads = [];
      for (var h = 0; h < heads; h++) {
        changes.heads.push(h === head);
      }
    } else if (!initial) {
      changes.heads = []; // a link without a head shows every head
      for (var g = 0; g < heads; g++) {
        changes.heads.push(true);
      }
    }
    var token = intOr(p.token, null);
    if (token !== null) {
      changes.token = token;
      changes.dir = p.dir === 'to' ? 'to' : 'from';
    } else if (!initial) {
      changes.token = -1;
    }
    this.set(changes, {fromHash: true});
    return true;
  };

  // ----- drawing: dispatch ------------------------------------------------------------------------

  Viewer.prototype.showMessage = function (text, isError) {
    this.message.textContent = text || '';
    this.message.classList.toggle('rgv-error', !!isError);
    this.message.classList.toggle('rgv-hidden', !text);
  };

  Viewer.prototype.markDrawn = function () {
    this.drawn += 1;
    this.root.setAttribute('data-rg-drawn', String(this.drawn));
    if (!this.root.hasAttribute('data-rg-ready')) {
      this.root.setAttribute('data-rg-ready', '1');
      this.resolveReady();
    }
  };

  Viewer.prototype.fail = function (err) {
    this.error = err && err.message ? err.message : String(err);
    this.root.setAttribute('data-rg-error', this.error);
    this.showMessage(this.error, true);
    this.markDrawn();
  };

  /** Redraw the current view, loading the data it needs first. */
  Viewer.prototype.render = function () {
    var self = this, meta = this.meta, s = this.state, generation = ++this.generation;
    if (!meta) {
      return;
    }
    this.theme = readTheme(this.root);
    this.renderedWidth = this.root.clientWidth;
    this.error = null;
    this.root.removeAttribute('data-rg-error');
    if (s.view === 'model') {
      this.renderModel(generation);
      return;
    }
    if (s.view === 'rollout' || s.view === 'predictions') {
      this.renderBeyond(generation);
      return;
    }
    var layer = s.layer, data = cachedLayer(meta, layer);
    var wantQK = s.view === 'neuron' && dataFile(meta, 'qk', layer);
    function draw(layerData, qk) {
      if (generation !== self.generation) {
        return;
      }
      self.showMessage('');
      try {
        if (s.view === 'head') {
          self.drawHead(layerData);
        } else if (s.view === 'matrix') {
          self.drawMatrix(layerData);
        } else {
          self.drawNeuron(layerData, qk);
        }
      } catch (err) {
        self.fail(err);
        return;
      }
      self.markDrawn();
    }
    if (data && !wantQK) {
      draw(data, null); // cached: draw at once (keeps hover and clicks instant)
      return;
    }
    this.showMessage('Loading layer ' + layer + '\u2026');
    Promise.all([
      load(meta, this.base, 'layer', layer),
      wantQK ? load(meta, this.base, 'qk', layer) : Promise.resolve(null)
    ]).then(function (loaded) {
      draw(loaded[0], loaded[1]);
    }, function (err) {
      if (generation === self.generation) {
        self.fail(err);
      }
    });
  };

  // ----- units: tokens or words, with special tokens shown or hidden --------------------------------

  /**
   * The rows/columns shown by the head and matrix views: tokens, or words (Clark's rule) when the
   * word option is on; special tokens are dropped when hidden. Each unit lists its token positions.
   */
  Viewer.prototype.units = function () {
    var meta = this.meta, s = this.state, hide = s.special !== 'show', words = !!s.words;
    var signature = meta.key + '|' + hide + '|' + words;
    if (this.cache.units && this.cache.units.signature === signature) {
      return this.cache.units;
    }
    var list = [], tokenUnit = new Int32Array(meta.n), wordUnit = {};
    for (var i = 0; i < meta.n; i++) {
      tokenUnit[i] = -1;
      var special = !!meta.special[i], word = meta.word ? meta.word[i] : -1;
      if (special && hide) {
        continue;
      }
      if (words && !special && word >= 0) {
        if (wordUnit[word] !== undefined) {
          var unit = list[wordUnit[word]];
          unit.tokens.push(i);
          if (!unit.fromWords) {
            unit.label += meta.tokens[i];
          }
          tokenUnit[i] = wordUnit[word];
          continue;
        }
        var known = meta.words && meta.words[word];
        wordUnit[word] = list.length;
        list.push({
          label: known ? String(known.text) : String(meta.tokens[i]), fromWords: !!known,
          segment: meta.segment ? meta.segment[i] : 0, special: false, tokens: [i], first: i
        });
      } else {
        list.push({
          label: String(meta.tokens[i]), segment: meta.segment ? meta.segment[i] : 0,
          special: special, tokens: [i], first: i
        });
      }
      tokenUnit[i] = list.length - 1;
    }
    this.cache.units = {
      signature: signature, list: list, tokenUnit: tokenUnit,
      identity: list.length === meta.n && !words
    };
    return this.cache.units;
  };

  /** Float32 [m, m] attention of head h between units (renormalised rows if asked). */
  Viewer.prototype.unitMatrix = function (layerData, h) {
    var meta = this.meta, s = this.state, units = this.units(), n = meta.n, m = units.list.length;
    var renorm = s.special === 'renorm';
    var signature = units.signature + '|' + s.layer + '|' + renorm;
    if (this.cache.matrixSignature !== signature || this.cache.layerData !== layerData) {
      this.cache.matrixSignature = signature;
      this.cache.layerData = layerData;
      this.cache.matrices = {};
      this.cache.cuts = {};
    }
    if (this.cache.matrices[h]) {
      return this.cache.matrices[h];
    }
    var out = new Float32Array(m * m), base = h * n * n, i, j;
    if (units.identity) {
      for (i = 0; i < n * n; i++) {
        out[i] = layerData[base + i] / 255;
      }
    } else {
      var share = units.list.map(function (unit) {
        return 1 / (255 * unit.tokens.length); // mean over the source unit's pieces
      });
      var tokenUnit = units.tokenUnit;
      for (i = 0; i < n; i++) {
        var ui = tokenUnit[i];
        if (ui < 0) {
          continue;
        }
        var row = base + i * n, o = ui * m, f = share[ui];
        for (j = 0; j < n; j++) {
          var uj = tokenUnit[j], v = layerData[row + j];
          if (uj >= 0 && v) {
            out[o + uj] += v * f; // sum over the target unit's pieces
          }
        }
      }
    }
    if (renorm) {
      for (i = 0; i < m; i++) {
        var sum = 0;
        for (j = 0; j < m; j++) {
          sum += out[i * m + j];
        }
        if (sum > 0) {
          for (j = 0; j < m; j++) {
            out[i * m + j] /= sum;
          }
        }
      }
    }
    this.cache.matrices[h] = out;
    return out;
  };

  /** Per-row cut-off weights for the top-X% option (null when everything is drawn). */
  Viewer.prototype.rowCuts = function (matrix, h, m) {
    var top = this.state.top;
    if (top >= 100) {
      return null;
    }
    var key = h + '|' + top;
    if (this.cache.cuts[key]) {
      return this.cache.cuts[key];
    }
    var cuts = new Float32Array(m), values = [];
    for (var i = 0; i < m; i++) {
      var sum = 0;
      values.length = 0;
      for (var j = 0; j < m; j++) {
        var w = matrix[i * m + j];
        if (w > 0) {
          values.push(w);
          sum += w;
        }
      }
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
      cuts[i] = cut;
    }
    this.cache.cuts[key] = cuts;
    return cuts;
  };

  Viewer.prototype.pairAllowed = function () {
    var filter = this.state.filter, list = this.units().list;
    if (filter === 'all') {
      return null;
    }
    var want = {aa: [0, 0], bb: [1, 1], ab: [0, 1], ba: [1, 0]}[filter];
    var from = new Uint8Array(list.length), to = new Uint8Array(list.length);
    list.forEach(function (unit, u) {
      from[u] = unit.segment === want[0] ? 1 : 0;
      to[u] = unit.segment === want[1] ? 1 : 0;
    });
    return {from: from, to: to};
  };

  /** The token the head view isolates: hovered, else pinned. */
  Viewer.prototype.active = function () {
    if (this.hover) {
      return this.hover;
    }
    var s = this.state, units = this.units();
    if (s.token >= 0 && s.token < this.meta.n && units.tokenUnit[s.token] >= 0) {
      return {side: s.dir, unit: units.tokenUnit[s.token]};
    }
    return null;
  };

  // ----- head view -----------------------------------------------------------------------------------

  Viewer.prototype.rowHeight = function (m) {
    return m <= 80 ? 20 : (m <= 200 ? 16 : 13);
  };

  Viewer.prototype.drawHead = function (layerData) {
    var units = this.units(), m = units.list.length, rowHeight = this.rowHeight(m);
    this.layerData = layerData;
    this.fitHead();
    if (this.cache.columns !== units.signature) {
      this.cache.columns = units.signature;
      this.fillColumns(units, rowHeight);
    }
    this.linesHeight = m * rowHeight;
    this.rowPx = rowHeight;
    this.drawLines();
    this.updatePanel();
  };

  /** Sizes of the head view for the container width (Material's content column is ~640 px). */
  Viewer.prototype.fitHead = function () {
    var width = this.root.clientWidth || 900;
    var sizes = width >= 880 ? [240, 170] : (width >= 600 ? [170, 115] : [140, 100]);
    this.linesWidth = sizes[0];
    this.graph.style.gridTemplateColumns = 'auto ' + sizes[0] + 'px auto';
    this.root.style.setProperty('--rgv-colmax', sizes[1] + 'px');
    this.root.classList.toggle('rgv-narrow', width < 520);
  };

  Viewer.prototype.fillColumns = function (units, rowHeight) {
    var self = this;
    this.root.style.setProperty('--rgv-row', rowHeight + 'px');
    this.root.style.setProperty('--rgv-font', Math.max(10, rowHeight - 7) + 'px');
    [this.leftColumn, this.rightColumn].forEach(function (column) {
      var fragment = document.createDocumentFragment();
      units.list.forEach(function (unit, u) {
        fragment.appendChild(el('div', {
          class: 'rgv-tok' + (unit.special ? ' rgv-special' : '') +
            (unit.segment === 1 ? ' rgv-seg-b' : ''),
          dir: 'auto', 'data-unit': u, 'data-token': unit.first,
          title: self.unitTitle(unit),
          text: tokenText(unit.label)
        }));
      });
      column.textContent = '';
      column.appendChild(fragment);
    });
  };

  Viewer.prototype.unitTitle = function (unit) {
    var where = unit.special ? 'special token' : (unit.segment === 1 ? 'sentence B' : 'sentence A');
    var span = unit.tokens.length > 1 ? 'tokens ' + unit.tokens[0] + '\u2013' + unit.tokens[unit.tokens.length - 1]
      : 'token ' + unit.first;
    return span + ', ' + where + '. Hover to isolate its links, click to pin.';
  };

  /** Calls visit(h, i, j, w) for every link the head view's options let through. */
  Viewer.prototype.linkVisitor = function () {
    var self = this, m = this.units().list.length, active = this.active(), pairs = this.pairAllowed();
    var plan = this.selectedHeads().map(function (h) {
      var matrix = self.unitMatrix(self.layerData, h);
      return {h: h, matrix: matrix, cuts: self.rowCuts(matrix, h, m)};
    });
    return function (visit) {
      plan.forEach(function (p) {
        var matrix = p.matrix, cuts = p.cuts, h = p.h;
        function consider(i, j) {
          var w = matrix[i * m + j];
          if (w >= MIN_WEIGHT && !(cuts && w < cuts[i]) && !(pairs && !(pairs.from[i] && pairs.to[j]))) {
            visit(h, i, j, w);
          }
        }
        var i, j;
        if (active && active.side === 'from') {
          for (j = 0; j < m; j++) {
            consider(active.unit, j);
          }
        } else if (active) {
          for (i = 0; i < m; i++) {
            consider(i, active.unit);
          }
        } else {
          for (i = 0; i < m; i++) {
            for (j = 0; j < m; j++) {
              consider(i, j);
            }
          }
        }
      });
    };
  };

  Viewer.prototype.headLinks = function () {
    var width = this.linesWidth - 6, rowHeight = this.rowPx;
    return selectLinks(this.linkVisitor(), function (i, j) {
      var dy = (j - i) * rowHeight;
      return Math.sqrt(width * width + dy * dy);
    }, HEAD_PIXEL_BUDGET);
  };

  Viewer.prototype.drawLines = function () {
    var units = this.units(), m = units.list.length, rowHeight = this.rowPx;
    var height = this.linesHeight, width = this.linesWidth, layerData = this.layerData;
    var ctx = sizeCanvas(this.linesCanvas, width, height, height > 4000 ? 1 : 2);
    ctx.clearRect(0, 0, width, height);
    var active = this.active(), self = this;
    var links = this.headLinks();
    this.drawnActive = active;
    drawLinks(ctx, links, 3, width - 3, function (i) {
      return (i + 0.5) * rowHeight;
    }, active ? 0.04 : 0);
    this.edges = links.drawn;
    this.skipped = links.skipped;
    this.skippedBelow = links.minWeight;
    var heads = this.selectedHeads();

    // Highlight tokens: the isolated one, and the weight each other token gets (max over heads).
    var lit = null;
    if (active) {
      lit = new Float32Array(m);
      heads.forEach(function (h) {
        var matrix = self.unitMatrix(layerData, h);
        for (var k = 0; k < m; k++) {
          var w = active.side === 'from' ? matrix[active.unit * m + k] : matrix[k * m + active.unit];
          if (w > lit[k]) {
            lit[k] = w;
          }
        }
      });
    }
    var pinned = this.state.token >= 0 ? units.tokenUnit[this.state.token] : -1;
    [[this.leftColumn, 'from'], [this.rightColumn, 'to']].forEach(function (pair) {
      var side = pair[1], nodes = pair[0].children;
      for (var u = 0; u < nodes.length; u++) {
        var node = nodes[u], isActive = !!active && active.side === side && active.unit === u;
        node.classList.toggle('rgv-active', isActive);
        node.classList.toggle('rgv-pinned', pinned === u && self.state.dir === side);
        var weight = lit && active.side !== side ? lit[u] : 0;
        if (weight > 0.004) {
          node.style.setProperty('--rgv-w', Math.min(1, weight).toFixed(3));
          node.classList.add('rgv-lit');
        } else if (node.classList.contains('rgv-lit')) {
          node.classList.remove('rgv-lit');
        }
      }
    });
  };

  /** Hovering a token isolates its links; redraws are coalesced to one per animation frame. */
  Viewer.prototype.setHover = function (hover) {
    var self = this;
    this.pendingHover = hover;
    if (this.hoverFrame) {
      return;
    }
    var schedule = window.requestAnimationFrame || function (fn) {
      return window.setTimeout(fn, 16);
    };
    this.hoverFrame = schedule(function () {
      self.hoverFrame = null;
      self.applyHover(self.pendingHover);
    });
  };

  Viewer.prototype.applyHover = function (hover) {
    if (!this.meta || this.state.view !== 'head' || !this.layerData) {
      return;
    }
    var same = (!hover && !this.hover) ||
      (hover && this.hover && hover.side === this.hover.side && hover.unit === this.hover.unit);
    if (same) {
      return;
    }
    this.hover = hover;
    this.drawLines();
    this.updatePanel();
    this.markDrawn();
  };

  /** Click on a token: pin it (its links stay isolated), or unpin it. */
  Viewer.prototype.pin = function (side, unit) {
    var list = this.units().list;
    if (!list[unit]) {
      return;
    }
    var token = list[unit].first, s = this.state;
    this.hover = this.pendingHover = null;
    if (s.token === token && s.dir === side) {
      this.set({token: -1, dir: 'from'});
    } else {
      this.set({token: token, dir: side});
    }
  };

  /** Side panel: the exact weights of the isolated token, per selected head. */
  Viewer.prototype.updatePanel = function () {
    var self = this, s = this.state, panel = this.panel, units = this.units();
    var list = units.list, m = list.length, active = this.drawnActive, heads = this.selectedHeads();
    panel.textContent = '';
    if (!active) {
      panel.appendChild(el('p', {class: 'rgv-hint', text: 'Hover a token to isolate its links and read the exact ' +
        'weights here; click a token to pin it.'}));
      panel.appendChild(el('p', {class: 'rgv-hint', text: 'Line opacity and width follow the attention weight. ' +
        this.edges + ' links drawn for ' + heads.length + ' head' + (heads.length === 1 ? '' : 's') + '.'}));
      this.skippedNote(panel);
      return;
    }
    var unit = list[active.unit], from = active.side === 'from';
    panel.appendChild(el('div', {class: 'rgv-panel-title'}, [
      el('span', {text: from ? 'Attention from ' : 'Attention to '}),
      el('span', {class: 'rgv-quote', dir: 'auto', text: tokenText(unit.label)}),
      el('span', {text: ' (' + (unit.tokens.length > 1 ? 'tokens ' + unit.tokens.join(', ') : 'token ' + unit.first) +
        ', layer ' + s.layer + ')'})
    ]));
    var note = 'Each weight is within \u00b1' + this.maxError.toFixed(5) + ' of the model\u2019s value (uint8 storage).';
    if (s.words) {
      note = 'Word rows average and word columns sum the stored token weights, so a word\u2019s error bound ' +
        'adds up over its pieces (\u00b1' + this.maxError.toFixed(5) + ' per piece).';
    }
    if (s.special === 'renorm') {
      note += ' Rows are renormalised after hiding special tokens.';
    }
    panel.appendChild(el('p', {class: 'rgv-hint', text: note}));
    this.skippedNote(panel);
    if (!heads.length) {
      panel.appendChild(el('p', {class: 'rgv-hint', text: 'No head selected.'}));
      return;
    }
    var pairs = this.pairAllowed();
    var table = el('table', {class: 'rgv-weights'});
    var headRow = el('tr', {}, [el('th', {text: from ? 'to' : 'from'})]);
    heads.forEach(function (h) {
      var th = el('th', {class: 'rgv-head-col', title: 'Head ' + h + (self.headLabel(s.layer, h) ? ': ' +
        self.headLabel(s.layer, h) : ''), text: 'H' + h});
      th.style.setProperty('--rgv-head', headColour(h));
      headRow.appendChild(th);
    });
    table.appendChild(el('thead', {}, [headRow]));
    var matrices = heads.map(function (h) {
      return self.unitMatrix(self.layerData, h);
    });
    var cutsList = heads.map(function (h, k) {
      return self.rowCuts(matrices[k], h, m);
    });
    var body = el('tbody');
    for (var other = 0; other < m; other++) {
      var i = from ? active.unit : other, j = from ? other : active.unit;
      var row = el('tr', {'data-unit': other}, [
        el('td', {class: 'rgv-tok-cell', dir: 'auto', text: tokenText(list[other].label)})
      ]);
      var shownAny = false;
      for (var k = 0; k < heads.length; k++) {
        var w = matrices[k][i * m + j], cuts = cutsList[k];
        var shown = w >= MIN_WEIGHT && !(cuts && w < cuts[i]) && !(pairs && !(pairs.from[i] && pairs.to[j]));
        shownAny = shownAny || shown;
        var cell = el('td', {
          class: 'rgv-num' + (shown ? '' : ' rgv-muted'), 'data-head': heads[k], 'data-from': list[i].first,
          'data-to': list[j].first, 'data-value': String(w), text: fixed(w, 3)
        });
        cell.style.setProperty('--rgv-w', Math.min(1, w).toFixed(3));
        cell.style.setProperty('--rgv-head', headColour(heads[k]));
        row.appendChild(cell);
      }
      if (!shownAny) {
        row.classList.add('rgv-muted-row');
      }
      body.appendChild(row);
    }
    table.appendChild(body);
    panel.appendChild(el('div', {class: 'rgv-table-wrap'}, [table]));
  };

  Viewer.prototype.skippedNote = function (panel) {
    if (this.skipped > 0) {
      panel.appendChild(el('p', {class: 'rgv-hint rgv-skipped', text: this.skipped + ' fainter link' +
        (this.skipped === 1 ? '' : 's') + ' (weight below ' + this.skippedBelow.toFixed(3) + ') not drawn, ' +
        'to keep redraws fast; this table lists every weight of the token you hover.'}));
    }
  };

  // ----- model view ----------------------------------------------------------------------------------

  Viewer.prototype.thumbStyle = function () {
    var style = this.state.thumbs;
    if (style === 'lines' || style === 'heatmap') {
      return style;
    }
    return this.meta.n <= 64 ? 'lines' : 'heatmap';
  };

  Viewer.prototype.renderModel = function (generation) {
    var self = this, meta = this.meta, heads = meta.heads, layers = meta.layers;
    var width = this.panes.model.clientWidth || this.root.clientWidth || 720;
    var size = clamp(Math.floor((width - 40) / heads) - 10, 40, 110);
    var style = this.thumbStyle(), signature = meta.key + '|' + size;
    if (this.cache.grid !== signature) {
      this.cache.grid = signature;
      this.grid.textContent = '';
      this.grid.style.setProperty('--rgv-thumb', size + 'px');
      this.grid.style.gridTemplateColumns = 'auto repeat(' + heads + ', ' + size + 'px)';
      this.thumbs = [];
      this.grid.appendChild(el('div', {class: 'rgv-grid-corner'}));
      for (var h = 0; h < heads; h++) {
        this.grid.appendChild(el('div', {class: 'rgv-grid-head', text: 'H' + h}));
      }
      for (var l = 0; l < layers; l++) {
        this.grid.appendChild(el('div', {class: 'rgv-grid-layer', text: 'L' + l}));
        this.thumbs.push([]);
        for (h = 0; h < heads; h++) {
          this.thumbs[l].push(this.makeThumb(l, h, size));
        }
      }
    }
    this.thumbSize = size;
    this.markCurrentThumbs();
    var next = 0;
    function step() {
      if (generation !== self.generation) {
        return;
      }
      if (next >= layers) {
        self.showMessage('');
        self.markDrawn();
        return;
      }
      var layer = next++;
      var data = cachedLayer(meta, layer);
      if (!data) {
        self.showMessage('Loading layer ' + layer + ' of ' + layers + '\u2026');
      }
      (data ? Promise.resolve(data) : load(meta, self.base, 'layer', layer)).then(function (layerData) {
        if (generation !== self.generation) {
          return;
        }
        try {
          for (var h = 0; h < heads; h++) {
            self.drawThumb(self.thumbs[layer][h].canvas, layerData, h, size, style);
          }
        } catch (err) {
          self.fail(err);
          return;
        }
        step();
      }, function (err) {
        if (generation === self.generation) {
          self.fail(err);
        }
      });
    }
    step();
  };

  Viewer.prototype.makeThumb = function (layer, head, size) {
    var self = this, label = this.headLabel(layer, head);
    var canvas = el('canvas', {class: 'rgv-thumb-canvas', width: size, height: size});
    var figure = el('button', {
      type: 'button', class: 'rgv-thumb', 'data-layer': layer, 'data-head': head,
      title: 'Layer ' + layer + ', head ' + head + ' (0-based; exBERT <' + (layer + 1) + ',' + (head + 1) + '>)' +
        (label ? ': ' + label : '') + '. Click to open in the head view.',
      onclick: function () {
        self.set({view: 'head', layer: layer, heads: self.solo(head), token: -1});
      }
    }, [
      canvas,
      el('span', {class: 'rgv-thumb-name', text: 'L' + layer + ' H' + head}),
      el('span', {class: 'rgv-thumb-label', text: label || '\u00a0'})
    ]);
    this.grid.appendChild(figure);
    return {canvas: canvas, node: figure};
  };

  Viewer.prototype.markCurrentThumbs = function () {
    var s = this.state, single = this.selectedHeads().length === 1;
    (this.thumbs || []).forEach(function (row, layer) {
      row.forEach(function (thumb, head) {
        thumb.node.classList.toggle('rgv-current', single && layer === s.layer && !!s.heads[head]);
      });
    });
  };

  Viewer.prototype.drawThumb = function (canvas, layerData, h, size, style) {
    var meta = this.meta, n = meta.n, theme = this.theme, base = h * n * n;
    var ctx = sizeCanvas(canvas, size, size);
    ctx.fillStyle = theme.bgSolid;
    ctx.fillRect(0, 0, size, size);
    if (style === 'heatmap') {
      // Max-pool the n x n matrix to the thumbnail so that sparse patterns stay visible.
      var pixels = Math.min(n, canvas.width), image = ctx.createImageData(pixels, pixels);
      var pool = new Float32Array(pixels * pixels), scale = pixels / n, i, j;
      for (i = 0; i < n; i++) {
        var row = Math.floor(i * scale) * pixels, src = base + i * n;
        for (j = 0; j < n; j++) {
          var v = layerData[src + j], p = row + Math.floor(j * scale);
          if (v > pool[p]) {
            pool[p] = v;
          }
        }
      }
      for (i = 0; i < pool.length; i++) {
        var rgb = mix(theme.bgRGB, theme.heatRGB, pool[i] / 255);
        image.data[4 * i] = rgb[0];
        image.data[4 * i + 1] = rgb[1];
        image.data[4 * i + 2] = rgb[2];
        image.data[4 * i + 3] = 255;
      }
      var off = document.createElement('canvas');
      off.width = off.height = pixels;
      off.getContext('2d').putImageData(image, 0, 0);
      ctx.imageSmoothingEnabled = pixels < canvas.width ? false : true;
      ctx.drawImage(off, 1, 1, size - 2, size - 2);
    } else {
      var step = (size - 4) / n, x0 = size * 0.18, x1 = size * 0.82, span = x1 - x0;
      var links = selectLinks(function (visit) {
        for (var i = 0; i < n; i++) {
          for (var j = 0; j < n; j++) {
            var v = layerData[base + i * n + j];
            if (v) {
              visit(h, i, j, v / 255);
            }
          }
        }
      }, function (i, j) {
        var dy = (j - i) * step;
        return Math.sqrt(span * span + dy * dy);
      }, THUMB_PIXEL_BUDGET);
      drawLinks(ctx, links, x0, x1, function (i) {
        return 2 + (i + 0.5) * step;
      }, 0);
    }
  };

  // ----- neuron view ---------------------------------------------------------------------------------

  Viewer.prototype.drawNeuron = function (layerData, qk) {
    var meta = this.meta, s = this.state, theme = this.theme, h = this.focusHead();
    var query = s.token >= 0 ? s.token : this.defaultQuery(), n = meta.n;
    this.neuronResult = null;
    this.neuronReadout.textContent = '\u00a0';
    if (!qk || h >= qk.heads) {
      this.neuronSummary.textContent = 'Neuron data (query and key vectors) is not stored for layer ' + s.layer +
        (qk ? ', head ' + h : '') + ' of this model. ' + (Object.keys(meta.qk_files || {}).length
        ? 'Stored layers: ' + Object.keys(meta.qk_files).sort(function (a, b) {
          return a - b;
        }).join(', ') + '.' : 'The manifest did not ask for any.');
      this.neuronSummary.classList.add('rgv-warn');
      sizeCanvas(this.neuronCanvas, 1, 1);
      this.neuronCanvas.classList.add('rgv-hidden');
      return;
    }
    this.neuronSummary.classList.remove('rgv-warn');
    this.neuronCanvas.classList.remove('rgv-hidden');
    var d = qk.d, qOffset = (h * n + query) * d, root = Math.sqrt(d);
    var q = qk.q.subarray(qOffset, qOffset + d);
    var keys = [], j, c;
    var last = meta.causal ? query : n - 1;
    for (j = 0; j <= last; j++) {
      keys.push(j);
    }
    var products = [], scores = [], maxScore = -Infinity;
    keys.forEach(function (key) {
      var kOffset = (h * n + key) * d, product = new Float64Array(d), dot = 0;
      for (c = 0; c < d; c++) {
        product[c] = q[c] * qk.k[kOffset + c];
        dot += product[c];
      }
      products.push(product);
      scores.push(dot / root);
      maxScore = Math.max(maxScore, dot / root);
    });
    var exps = scores.map(function (score) {
      return Math.exp(score - maxScore);
    });
    var total = exps.reduce(function (a, b) {
      return a + b;
    }, 0);
    var softmax = exps.map(function (e) {
      return e / total;
    });
    var stored = keys.map(function (key) {
      return layerData[(h * n + query) * n + key] / 255;
    });
    var maxDiff = 0;
    softmax.forEach(function (p, k) {
      maxDiff = Math.max(maxDiff, Math.abs(p - stored[k]));
    });
    // |softmax - stored| <= storage error of the attention + error of softmax from float16 q and k
    var bound = this.qkError === null ? null : this.maxError + this.qkError;
    this.neuronResult = {
      layer: s.layer, head: h, token: query, d: d, keys: keys, q: Array.from(q), scores: scores,
      softmax: softmax, stored: stored, maxDiff: maxDiff, bound: bound
    };

    this.neuronSummary.textContent = 'Layer ' + s.layer + ', head ' + h + ', query ' + query + ' \u201c' +
      tokenText(meta.tokens[query]) + '\u201d: softmax(q\u00b7k/\u221a' + d + ') over ' + keys.length + ' key' +
      (keys.length === 1 ? '' : 's') + (meta.causal ? ' (causal: keys up to the query)' : '') +
      '. Largest difference from the stored attention: ' + maxDiff.toFixed(5) + ' (bound: ' +
      this.maxError.toFixed(5) + ' for uint8 attention + ' + (this.qkError === null ? 'float16 rounding of q and k'
        : smallNumber(this.qkError) + ' measured for float16 q and k') + '). Hover for numbers.';

    // Geometry.
    // Two strips of d cells share what the fixed columns leave of the pane's width.
    var available = Math.min(1000, this.panes.neuron.clientWidth || this.root.clientWidth || 800);
    var labelWidth = 110, gap = 12, scoreWidth = 72, probWidth = 104, storedWidth = 52, rowHeight = 16;
    var fixedWidth = labelWidth + 8 + 4 * gap + scoreWidth + probWidth + storedWidth + 10;
    var cell = clamp(Math.floor((available - fixedWidth) / 2 / d), 2, 10), strip = cell * d;
    var xK = labelWidth + 8, xP = xK + strip + gap, xS = xP + strip + gap, xM = xS + scoreWidth + gap;
    var xT = xM + probWidth + gap, width = xT + storedWidth;
    var top = 22, qRow = top + 2, keysTop = qRow + rowHeight + 18;
    var height = keysTop + keys.length * rowHeight + 6;
    var ctx = sizeCanvas(this.neuronCanvas, width, height);
    ctx.fillStyle = theme.bgSolid;
    ctx.fillRect(0, 0, width, height);
    ctx.font = '12px ' + theme.font;
    ctx.textBaseline = 'middle';

    var maxQ = 1e-12, maxK = 1e-12, maxP = 1e-12;
    for (c = 0; c < d; c++) {
      maxQ = Math.max(maxQ, Math.abs(q[c]));
    }
    keys.forEach(function (key, k) {
      var kOffset = (h * n + key) * d;
      for (c = 0; c < d; c++) {
        maxK = Math.max(maxK, Math.abs(qk.k[kOffset + c]));
        maxP = Math.max(maxP, Math.abs(products[k][c]));
      }
    });
    function diverging(value, max) {
      var t = clamp(value / max, -1, 1);
      return rgbText(mix(theme.bgRGB, t >= 0 ? theme.posRGB : theme.negRGB, Math.abs(t)));
    }
    function stripAt(x, y, values, offset, max) {
      for (var c = 0; c < d; c++) {
        ctx.fillStyle = diverging(values[offset + c], max);
        ctx.fillRect(x + c * cell, y + 2, cell, rowHeight - 4);
      }
    }

    // Column titles.
    ctx.fillStyle = theme.mutedSolid;
    ctx.textAlign = 'left';
    ctx.fillText('key k (' + d + ' dims)', xK, 10);
    ctx.fillText('q \u00d7 k (elementwise)', xP, 10);
    ctx.fillText('q\u00b7k / \u221a' + d, xS, 10);
    ctx.fillText('softmax', xM, 10);
    ctx.fillText('stored', xT, 10);

    // Query row.
    ctx.fillStyle = theme.fgSolid;
    ctx.textAlign = 'right';
    ctx.font = 'bold 12px ' + theme.font;
    ctx.fillText(ellipsize(ctx, 'q: ' + tokenText(meta.tokens[query]), labelWidth), labelWidth, qRow + rowHeight / 2);
    ctx.font = '12px ' + theme.font;
    stripAt(xK, qRow, q, 0, maxQ);
    ctx.fillStyle = theme.mutedSolid;
    ctx.textAlign = 'left';
    ctx.fillText('\u2190 query vector q', xK + strip + 6, qRow + rowHeight / 2);
    ctx.strokeStyle = theme.faintSolid;
    ctx.beginPath();
    ctx.moveTo(0, keysTop - 9);
    ctx.lineTo(width, keysTop - 9);
    ctx.stroke();

    var minScore = Math.min.apply(null, scores), spread = Math.max(1e-9, maxScore - minScore);
    keys.forEach(function (key, k) {
      var y = keysTop + k * rowHeight, mid = y + rowHeight / 2;
      ctx.textAlign = 'right';
      ctx.fillStyle = key === query ? theme.fgSolid : theme.mutedSolid;
      ctx.font = (key === query ? 'bold ' : '') + '12px ' + theme.font;
      ctx.fillText(ellipsize(ctx, tokenText(meta.tokens[key]), labelWidth - 4), labelWidth, mid);
      ctx.font = '12px ' + theme.font;
      stripAt(xK, y, qk.k, (h * n + key) * d, maxK);
      stripAt(xP, y, products[k], 0, maxP);
      // score: a bar from the smallest score, and the number
      ctx.fillStyle = theme.faintSolid;
      ctx.fillRect(xS, y + 3, (scoreWidth - 40) * (scores[k] - minScore) / spread, rowHeight - 6);
      ctx.fillStyle = theme.fgSolid;
      ctx.textAlign = 'right';
      ctx.fillText(scores[k].toFixed(2), xS + scoreWidth, mid);
      ctx.fillStyle = rgbText(theme.heatRGB);
      ctx.fillRect(xM, y + 3, (probWidth - 44) * softmax[k], rowHeight - 6);
      ctx.fillStyle = theme.fgSolid;
      ctx.fillText(fixed(softmax[k], 3), xM + probWidth, mid);
      ctx.fillStyle = theme.mutedSolid;
      ctx.fillText(fixed(stored[k], 3), xT + storedWidth, mid);
    });
    this.neuronGeometry = {
      cell: cell, d: d, xK: xK, xP: xP, xS: xS, xM: xM, xT: xT, width: width, qRow: qRow,
      keysTop: keysTop, rowHeight: rowHeight, strip: strip, q: q, qk: qk, products: products
    };
  };

  Viewer.prototype.neuronHover = function (event) {
    var g = this.neuronGeometry, r = this.neuronResult, meta = this.meta;
    if (!g || !r) {
      return;
    }
    var rect = this.neuronCanvas.getBoundingClientRect();
    var x = event.clientX - rect.left, y = event.clientY - rect.top, n = meta.n, h = r.head;
    var dim = -1, text = '';
    function dimAt(x0) {
      return x >= x0 && x < x0 + g.strip ? Math.floor((x - x0) / g.cell) : -1;
    }
    if (y >= g.qRow && y < g.qRow + g.rowHeight) {
      dim = dimAt(g.xK);
      if (dim >= 0) {
        text = 'q[' + dim + '] = ' + g.q[dim].toFixed(4) + ' (query \u201c' + tokenText(meta.tokens[r.token]) + '\u201d)';
      }
    } else if (y >= g.keysTop) {
      var k = Math.floor((y - g.keysTop) / g.rowHeight);
      if (k >= 0 && k < r.keys.length) {
        var key = r.keys[k], kValue, label = 'key ' + key + ' \u201c' + tokenText(meta.tokens[key]) + '\u201d';
        if ((dim = dimAt(g.xK)) >= 0) {
          kValue = g.qk.k[(h * n + key) * g.d + dim];
          text = label + ': k[' + dim + '] = ' + kValue.toFixed(4);
        } else if ((dim = dimAt(g.xP)) >= 0) {
          kValue = g.qk.k[(h * n + key) * g.d + dim];
          text = label + ': q[' + dim + '] \u00d7 k[' + dim + '] = ' + g.q[dim].toFixed(4) + ' \u00d7 ' +
            kValue.toFixed(4) + ' = ' + g.products[k][dim].toFixed(4);
        } else {
          text = label + ': q\u00b7k/\u221a' + g.d + ' = ' + r.scores[k].toFixed(4) + ', softmax = ' +
            r.softmax[k].toFixed(4) + ', stored attention = ' + r.stored[k].toFixed(4) + ' (\u00b1' +
            this.maxError.toFixed(5) + ')';
        }
      }
    }
    this.neuronReadout.textContent = text || '\u00a0';
  };

  // ----- matrix view ---------------------------------------------------------------------------------

  Viewer.prototype.drawMatrix = function (layerData) {
    var s = this.state, h = this.focusHead();
    this.layerData = layerData;
    this.paintMatrix(this.matrixTarget, this.unitMatrix(layerData, h), 'Layer ' + s.layer + ', head ' + h +
      (this.headLabel(s.layer, h) ? ' (' + this.headLabel(s.layer, h) + ')' : '') +
      ': rows attend to columns. Hover a cell for its weight.');
  };

  /**
   * Draw a [m, m] matrix of the current units as a heatmap with axis labels into target t
   * ({canvas, cursor, readout, legend, pane}); the matrix and rollout views share it.
   */
  Viewer.prototype.paintMatrix = function (t, matrix, caption) {
    var units = this.units(), list = units.list, m = list.length, theme = this.theme, s = this.state;
    var available = Math.max(240, (t.pane.clientWidth || this.root.clientWidth || 720) - 8);
    var measure = sizeCanvas(t.canvas, 1, 1);
    measure.font = '11px ' + theme.font;
    var labelWidth = 0;
    list.forEach(function (unit) {
      labelWidth = Math.max(labelWidth, measure.measureText(tokenText(unit.label)).width);
    });
    labelWidth = Math.min(110, Math.ceil(labelWidth)) + 8;
    var cellSize, labelled;
    if (s.zoom === 'fit') {
      cellSize = clamp(Math.floor((available - labelWidth - 24) / m), 1, 26);
      labelled = cellSize >= 8;
      if (!labelled) {
        // Too many rows for labels: fill the width, with fractional cells if need be.
        cellSize = clamp((available - 40) / m, 1, 26);
        cellSize = cellSize >= 4 ? Math.floor(cellSize) : Math.floor(cellSize * 8) / 8;
      }
    } else {
      cellSize = +s.zoom;
      labelled = cellSize >= 8;
    }
    var left = labelled ? labelWidth + 18 : 26, top = labelled ? labelWidth + 18 : 26;
    var side = Math.round(m * cellSize);
    cellSize = side / m;
    var width = left + side + 8, height = top + side + 8;
    var ctx = sizeCanvas(t.canvas, width, height);
    ctx.fillStyle = theme.bgSolid;
    ctx.fillRect(0, 0, width, height);

    var image = ctx.createImageData(m, m), data = image.data;
    for (var i = 0; i < m * m; i++) {
      var rgb = mix(theme.bgRGB, theme.heatRGB, Math.min(1, matrix[i]));
      data[4 * i] = rgb[0];
      data[4 * i + 1] = rgb[1];
      data[4 * i + 2] = rgb[2];
      data[4 * i + 3] = 255;
    }
    var off = document.createElement('canvas');
    off.width = off.height = m;
    off.getContext('2d').putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, left, top, side, side);
    ctx.strokeStyle = theme.faintSolid;
    ctx.lineWidth = 1;
    ctx.strokeRect(left - 0.5, top - 0.5, side + 1, side + 1);

    ctx.fillStyle = theme.mutedSolid;
    ctx.font = '11px ' + theme.font;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    ctx.fillText('to \u2192', left, 9);
    ctx.save();
    ctx.translate(9, top);
    ctx.rotate(Math.PI / 2);
    ctx.fillText('from \u2192', 0, 0);
    ctx.restore();
    if (labelled) {
      ctx.fillStyle = theme.fgSolid;
      list.forEach(function (unit, u) {
        var text = ellipsize(ctx, tokenText(unit.label), labelWidth - 8), centre = (u + 0.5) * cellSize;
        ctx.textAlign = 'right';
        ctx.fillText(text, left - 5, top + centre);
        ctx.save();
        ctx.translate(left + centre, top - 5);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = 'left';
        ctx.fillText(text, 0, 0);
        ctx.restore();
      });
    }
    t.geometry = {left: left, top: top, cell: cellSize, m: m, matrix: matrix};
    t.cursor.classList.add('rgv-hidden');
    t.readout.textContent = caption;
    t.legend.querySelector('.rgv-legend-ramp').style.background =
      'linear-gradient(to right, ' + theme.bgSolid + ', ' + rgbText(theme.heatRGB) + ')';
  };

  Viewer.prototype.matrixCell = function (event, t) {
    t = t || this.matrixTarget;
    var g = t.geometry;
    if (!g) {
      return null;
    }
    var rect = t.canvas.getBoundingClientRect();
    var x = event.clientX - rect.left - g.left, y = event.clientY - rect.top - g.top;
    var i = Math.floor(y / g.cell), j = Math.floor(x / g.cell);
    if (x < 0 || y < 0 || i >= g.m || j >= g.m) {
      return null;
    }
    return {i: i, j: j};
  };

  Viewer.prototype.matrixHover = function (event, t) {
    t = t || this.matrixTarget;
    var g = t.geometry, cell = this.matrixCell(event, t), list = this.units().list;
    if (!cell) {
      t.cursor.classList.add('rgv-hidden');
      return;
    }
    var w = g.matrix[cell.i * g.m + cell.j], box = t.cursor;
    box.classList.remove('rgv-hidden');
    box.style.left = (g.left + cell.j * g.cell - 1) + 'px';
    box.style.top = (g.top + cell.i * g.cell - 1) + 'px';
    box.style.width = box.style.height = (g.cell + 2) + 'px';
    var readout = t.readout;
    readout.textContent = '';
    readout.setAttribute('data-from', list[cell.i].first);
    readout.setAttribute('data-to', list[cell.j].first);
    readout.setAttribute('data-value', String(w));
    readout.appendChild(el('span', {text: 'from ' + cell.i + ' '}));
    readout.appendChild(el('span', {class: 'rgv-quote', dir: 'auto', text: tokenText(list[cell.i].label)}));
    readout.appendChild(el('span', {text: ' \u2192 to ' + cell.j + ' '}));
    readout.appendChild(el('span', {class: 'rgv-quote', dir: 'auto', text: tokenText(list[cell.j].label)}));
    readout.appendChild(el('span', {text: ': '}));
    readout.appendChild(el('strong', {text: w.toFixed(4)}));
    readout.appendChild(el('span', {text: ' (\u00b1' + this.maxError.toFixed(5) + ')'}));
  };

  // ----- rollout and predictions views (issue 8) ----------------------------------------------------

  Viewer.prototype.buildBeyond = function () {
    var self = this;
    // Rollout: the matrix view's heatmap of the rollout up to the chosen layer.
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
    this.panes.rollout = el('div', {class: 'rgv-pane rgv-rollout-pane'}, [
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
      legend: this.rolloutLegend, pane: this.panes.rollout, geometry: null};

    // Predictions: word buttons, a bar chart (canvas) and a table of the top 10.
    this.predMessage = el('div', {class: 'rgv-hint'});
    this.predWords = el('div', {class: 'rgv-pred-words', role: 'group', 'aria-label': 'Masked word'});
    this.predCanvas = el('canvas', {class: 'rgv-pred-canvas', 'aria-label': 'Top predictions'});
    this.predTable = el('table', {class: 'rgv-pred-table'});
    this.predNote = el('div', {class: 'rgv-readout'});
    this.panes.predictions = el('div', {class: 'rgv-pane rgv-predictions-pane'}, [
      this.predMessage, this.predWords, this.predNote, this.predCanvas, this.predTable
    ]);
    this.predWord = null;
  };

  Viewer.prototype.renderBeyond = function (generation) {
    var self = this, meta = this.meta, s = this.state, kind = s.view;
    var file = dataFile(meta, kind, 0);
    if (kind === 'predictions' && !file) {
      var info = meta.predictions;
      this.predWord = null;
      this.predWords.textContent = '';
      this.predTable.textContent = '';
      this.predNote.textContent = '';
      this.predCanvas.classList.add('rgv-hidden');
      this.predMessage.textContent = info && info.text ? String(info.text)
        : 'No masked-token predictions are stored for this example.';
      this.showMessage('');
      this.markDrawn();
      return;
    }
    if (kind === 'rollout' && !file) {
      this.fail(new Error('No rollout data for this example (built by an older reportgen?).'));
      return;
    }
    this.showMessage('Loading ' + DATA_KINDS[kind] + '\u2026');
    load(meta, this.base, kind, 0).then(function (data) {
      if (generation !== self.generation) {
        return;
      }
      self.showMessage('');
      try {
        if (kind === 'rollout') {
          self.drawRollout(data);
        } else {
          self.drawPredictions(data);
        }
      } catch (err) {
        self.fail(err);
        return;
      }
      self.markDrawn();
    }, function (err) {
      if (generation === self.generation) {
        self.fail(err);
      }
    });
  };

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
    var matrix = this.unitMatrix(data, 0);
    this.paintMatrix(this.rolloutTarget, matrix, 'Rollout R_' + layer + ' (layers 0 to ' + layer +
      ', heads averaged): row i is the share of each input token in token i. Hover a cell for its value.');
  };

  Viewer.prototype.drawPredictions = function (data) {
    var self = this, words = data.words, s = this.state;
    this.predCanvas.classList.remove('rgv-hidden');
    this.predMessage.textContent = 'Pick a word: it is replaced by the mask token (one per word piece) and the ' +
      'model\u2019s masked-LM head predicts it; shown are the 10 most likely tokens for the word\u2019s first ' +
      'piece, with their probabilities.';
    if (!words.length) {
      this.predWords.textContent = '';
      this.predNote.textContent = 'This example has no words.';
      this.predWord = null;
      return;
    }
    var chosen = typeof s.predWord === 'number' ? s.predWord : -1, index = 0;
    words.forEach(function (w, k) {
      if (w.word === chosen) {
        index = k;
      }
    });
    var word = words[index];
    s.predWord = word.word;
    this.predWord = word;
    this.predWords.textContent = '';
    words.forEach(function (w, k) {
      var button = el('button', {type: 'button', class: 'rgv-pred-word' + (k === index ? ' rgv-active' : ''),
        dir: 'auto', text: tokenText(w.text || ('#' + w.word)), 'aria-pressed': k === index ? 'true' : 'false',
        title: w.pieces > 1 ? w.pieces + ' word pieces masked' : '1 word piece masked',
        onclick: function () {
          self.state.predWord = w.word;
          self.render();
        }});
      self.predWords.appendChild(button);
    });
    this.predNote.textContent = '';
    this.predNote.appendChild(el('span', {text: 'Masked: '}));
    this.predNote.appendChild(el('span', {class: 'rgv-quote', dir: 'auto', text: tokenText(word.text)}));
    this.predNote.appendChild(el('span', {text: ' (' + word.pieces + ' piece' + (word.pieces === 1 ? '' : 's') +
      '); probability of its own first piece: ' + Number(word.actual).toFixed(4) + '.'}));
    // bar chart
    var theme = this.theme, top = word.top || [], rowH = 22, labelW = 120, width = Math.min(560,
      Math.max(320, (this.panes.predictions.clientWidth || 600) - 8)), height = 8 + top.length * rowH + 8;
    var ctx = sizeCanvas(this.predCanvas, width, height), barMax = width - labelW - 70;
    ctx.fillStyle = theme.bgSolid;
    ctx.fillRect(0, 0, width, height);
    ctx.font = '12px ' + theme.font;
    ctx.textBaseline = 'middle';
    top.forEach(function (pair, r) {
      var y = 8 + r * rowH, p = Number(pair[1]);
      ctx.fillStyle = theme.fgSolid;
      ctx.textAlign = 'right';
      ctx.fillText(ellipsize(ctx, tokenText(pair[0]), labelW - 10), labelW - 6, y + rowH / 2);
      ctx.fillStyle = rgbText(theme.heatRGB);
      ctx.fillRect(labelW, y + 4, Math.max(1, p * barMax), rowH - 8);
      ctx.fillStyle = theme.mutedSolid;
      ctx.textAlign = 'left';
      ctx.fillText(p.toFixed(4), labelW + Math.max(1, p * barMax) + 6, y + rowH / 2);
    });
    // table
    this.predTable.textContent = '';
    this.predTable.appendChild(el('thead', {}, [el('tr', {}, [
      el('th', {text: 'Rank'}), el('th', {text: 'Token'}), el('th', {text: 'Probability'})
    ])]));
    var body = el('tbody');
    top.forEach(function (pair, r) {
      body.appendChild(el('tr', {}, [
        el('td', {text: String(r + 1)}), el('td', {dir: 'auto', text: tokenText(pair[0])}),
        el('td', {text: Number(pair[1]).toFixed(4)})
      ]));
    });
    this.predTable.appendChild(body);
  };

  // ----- export ------------------------------------------------------------------------------------

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

  /** A canvas holding the current view, ready for PNG export. */
  Viewer.prototype.exportCanvas = function () {
    var view = this.state.view;
    if (view === 'matrix') {
      return this.matrixCanvas;
    }
    if (view === 'rollout') {
      return this.rolloutTarget.geometry ? this.rolloutCanvas : null;
    }
    if (view === 'predictions') {
      return this.predWord ? this.predCanvas : null;
    }
    if (view === 'neuron') {
      return this.neuronResult ? this.neuronCanvas : null;
    }
    if (view === 'model') {
      return this.composeModel();
    }
    return this.composeHead();
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

  Viewer.prototype.viewTitle = function () {
    var heads = this.selectedHeads(), s = this.state, meta = this.meta;
    return (meta.model_name || meta.model) + ' \u00b7 ' + meta.example + ' \u00b7 layer ' + s.layer + ' \u00b7 ' +
      (heads.length === meta.heads ? 'all heads' : 'heads ' + heads.join(', '));
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
    ctx.fillText((meta.model_name || meta.model) + ' \u00b7 ' + meta.example + ' \u00b7 all heads', 8, 12);
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

  // ----- snapshot for tests and other scripts ---------------------------------------------------------

  Viewer.prototype.snapshot = function () {
    var s = this.state, meta = this.meta, heads = this.selectedHeads();
    return {
      model: meta ? meta.model : null, example: this.example, key: meta ? meta.key : null,
      view: s.view, layer: s.layer, heads: heads, head: heads.length === 1 ? heads[0] : null,
      token: s.token, dir: s.dir, filter: s.filter, special: s.special, words: !!s.words, top: s.top,
      units: meta ? this.units().list.length : 0, edges: this.edges, skipped: this.skipped || 0, drawn: this.drawn, error: this.error,
      maxError: this.maxError, predictions: this.predWord ? JSON.parse(JSON.stringify(this.predWord)) : null,
      predictionsText: this.predMessage ? this.predMessage.textContent : '',
      rolloutMatrix: s.view === 'rollout' && this.rolloutTarget.geometry ? Array.prototype.slice.call(this.rolloutTarget.geometry.matrix) : null
    };
  };

  // ---------------------------------------------------------------------------------------------
  // Page wiring
  // ---------------------------------------------------------------------------------------------

  // ---------------------------------------------------------------------------------------------
  // Training-run charts (issue 8): <div class="rg-run" data-run="KEY"> + a pushed {kind: 'run'} object
  // ---------------------------------------------------------------------------------------------

  /** TensorBoard's smoothing: debiased exponential moving average with weight w in [0, 1). */
  function smooth(values, weight) {
    var out = [], last = 0, debias = 0;
    for (var i = 0; i < values.length; i++) {
      last = last * weight + (1 - weight) * values[i];
      debias = debias * weight + (1 - weight);
      out.push(debias > 0 ? last / debias : values[i]);
    }
    return out;
  }

  /** About `count` round tick values between lo and hi. */
  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) {
      return [lo];
    }
    var raw = (hi - lo) / Math.max(1, count), power = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (f) {
      return f * power;
    }).filter(function (v) {
      return v >= raw;
    })[0] || 10 * power;
    var ticks = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return ticks;
  }

  function tickText(value) {
    var a = Math.abs(value);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) {
      return value.toExponential(1);
    }
    return String(+value.toPrecision(4));
  }

  function RunCharts(root) {
    this.root = root;
    this.key = root.getAttribute('data-run') || '';
    this.weight = 0.6;
    this.charts = [];
    this.drawn = 0;
    root.setAttribute('data-rg-drawn', '0');
  }

  RunCharts.prototype.start = function () {
    var data = runData[this.key];
    if (!data) {
      this.root.textContent = '';
      this.root.appendChild(el('p', {class: 'rgr-error', text: 'No data for training run ' + this.key + ' was loaded.'}));
      this.root.setAttribute('data-rg-error', 'no data');
      this.mark();
      return;
    }
    this.data = data;
    this.build();
    this.draw();
  };

  RunCharts.prototype.mark = function () {
    this.drawn += 1;
    this.root.setAttribute('data-rg-drawn', String(this.drawn));
    this.root.setAttribute('data-rg-ready', '1');
  };

  RunCharts.prototype.build = function () {
    var self = this, root = this.root, data = this.data;
    root.textContent = '';
    this.range = el('input', {type: 'range', min: 0, max: 0.99, step: 0.01, value: this.weight,
      'aria-label': 'Smoothing', oninput: function () {
        self.weight = +self.range.value;
        self.rangeValue.textContent = self.weight.toFixed(2);
        self.draw();
      }});
    this.rangeValue = el('output', {text: this.weight.toFixed(2)});
    root.appendChild(el('div', {class: 'rgr-controls'}, [
      el('label', {title: 'TensorBoard-style exponential moving average; 0 = raw values'}, [
        el('span', {text: 'Smoothing '}), this.range, el('span', {text: ' '}), this.rangeValue
      ])
    ]));
    this.charts = (data.charts || []).map(function (chart) {
      var c = {chart: chart, hidden: {}, hover: null};
      c.canvas = el('canvas', {class: 'rgr-canvas', 'aria-label': String(chart.title), 'data-chart': chart.key});
      c.readout = el('div', {class: 'rgr-readout', 'aria-live': 'polite', text: '\u00a0'});
      c.legend = el('div', {class: 'rgr-legend'});
      chart.series.forEach(function (series, k) {
        var key = el('span', {class: 'rgr-key', title: 'Click to show or hide', onclick: function () {
          c.hidden[k] = !c.hidden[k];
          key.classList.toggle('rgr-off', !!c.hidden[k]);
          self.drawChart(c);
        }}, [el('span', {class: 'rgr-swatch'}), el('span', {text: String(series.name)})]);
        key.firstChild.style.background = headColour(k);
        c.legend.appendChild(key);
      });
      c.canvas.addEventListener('mousemove', function (event) {
        var rect = c.canvas.getBoundingClientRect();
        c.hover = event.clientX - rect.left;
        self.drawChart(c);
      });
      c.canvas.addEventListener('mouseleave', function () {
        c.hover = null;
        c.readout.textContent = '\u00a0';
        self.drawChart(c);
      });
      root.appendChild(el('section', {class: 'rgr-chart', 'data-chart': chart.key}, [
        el('h3', {text: String(chart.title)}), el('p', {class: 'rgr-what', text: String(chart.what || '')}),
        c.legend, c.canvas, c.readout
      ]));
      return c;
    });
    if (!this.charts.length) {
      root.appendChild(el('p', {text: 'This run logged no numeric series.'}));
    }
  };

  RunCharts.prototype.draw = function () {
    var self = this;
    this.theme = readTheme(this.root);
    this.charts.forEach(function (c) {
      self.drawChart(c);
    });
    this.mark();
  };

  RunCharts.prototype.drawChart = function (c) {
    var chart = c.chart, theme = this.theme || readTheme(this.root), weight = this.weight, best = this.data.best;
    var width = Math.max(320, Math.min(900, (this.root.clientWidth || 720) - 4)), height = 260;
    var left = 62, right = 14, top = 10, bottom = 34, plotW = width - left - right, plotH = height - top - bottom;
    var ctx = sizeCanvas(c.canvas, width, height), log = !!chart.log;
    var ty = function (v) {
      return log ? Math.log10(v) : v;
    };
    var lines = [], xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
    chart.series.forEach(function (series, k) {
      if (c.hidden[k]) {
        return;
      }
      var xs = series.points.map(function (p) {
        return p[0];
      });
      var ys = series.points.map(function (p) {
        return p[1];
      });
      // evaluation series and the learning rate are drawn as logged (series.smooth false, runs.py)
      var smoothed = weight > 0 && series.smooth !== false;
      var sm = smoothed ? smooth(ys, weight) : ys;
      xs.forEach(function (x, i) {
        xmin = Math.min(xmin, x);
        xmax = Math.max(xmax, x);
        [ys[i], sm[i]].forEach(function (y) {
          if (!log || y > 0) {
            ymin = Math.min(ymin, ty(y));
            ymax = Math.max(ymax, ty(y));
          }
        });
      });
      lines.push({k: k, name: series.name, xs: xs, ys: ys, sm: sm, smoothed: smoothed});
    });
    ctx.fillStyle = theme.bgSolid;
    ctx.fillRect(0, 0, width, height);
    ctx.font = '11px ' + theme.font;
    if (!lines.length || !isFinite(xmin)) {
      ctx.fillStyle = theme.mutedSolid;
      ctx.fillText('No series shown.', left, top + 20);
      return;
    }
    if (xmax === xmin) {
      xmax = xmin + 1;
    }
    if (ymax === ymin) {
      ymax = ymin + (log ? 1 : Math.max(1e-9, Math.abs(ymin) * 0.1 || 1));
    }
    var pad = (ymax - ymin) * 0.05;
    ymin -= pad;
    ymax += pad;
    var X = function (x) {
      return left + (x - xmin) / (xmax - xmin) * plotW;
    };
    var Y = function (v) {
      return top + (1 - (ty(v) - ymin) / (ymax - ymin)) * plotH;
    };
    // grid and axes
    ctx.strokeStyle = theme.faintSolid;
    ctx.lineWidth = 1;
    ctx.fillStyle = theme.mutedSolid;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    var yTicks = log ? niceTicks(Math.ceil(ymin), Math.floor(ymax), Math.max(1, Math.floor(ymax) - Math.ceil(ymin)))
      : niceTicks(ymin, ymax, 5);
    yTicks.forEach(function (t) {
      var y = top + (1 - (t - ymin) / (ymax - ymin)) * plotH;
      if (y < top - 1 || y > top + plotH + 1) {
        return;
      }
      ctx.beginPath();
      ctx.moveTo(left, Math.round(y) + 0.5);
      ctx.lineTo(left + plotW, Math.round(y) + 0.5);
      ctx.stroke();
      ctx.fillText(log ? tickText(Math.pow(10, t)) : tickText(t), left - 6, y);
    });
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    niceTicks(xmin, xmax, 6).forEach(function (t) {
      var x = X(t);
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, top);
      ctx.lineTo(Math.round(x) + 0.5, top + plotH);
      ctx.stroke();
      ctx.fillText(tickText(t), x, top + plotH + 5);
    });
    ctx.fillText('step', left + plotW / 2, top + plotH + 19);
    ctx.strokeStyle = theme.mutedSolid;
    ctx.strokeRect(left + 0.5, top + 0.5, plotW, plotH);
    // best step, on every chart (the same step as the page's banner)
    if (best && best.step >= xmin && best.step <= xmax) {
      ctx.save();
      ctx.setLineDash([4, 3]);
      ctx.strokeStyle = theme.fgSolid;
      ctx.beginPath();
      ctx.moveTo(Math.round(X(best.step)) + 0.5, top);
      ctx.lineTo(Math.round(X(best.step)) + 0.5, top + plotH);
      ctx.stroke();
      ctx.restore();
      ctx.fillStyle = theme.fgSolid;
      var onLeft = X(best.step) > left + plotW * 0.8;
      ctx.textAlign = onLeft ? 'right' : 'left';
      ctx.textBaseline = 'top';
      ctx.fillText('best step ' + tickText(best.step), X(best.step) + (onLeft ? -4 : 4), top + 3);
    }
    // lines: raw faint when smoothing, smoothed solid
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, plotW, plotH);
    ctx.clip();
    lines.forEach(function (line) {
      var colour = headColour(line.k);
      var passes = line.smoothed ? [[line.ys, 0.25, 1], [line.sm, 1, 1.8]] : [[line.ys, 1, 1.8]];
      passes.forEach(function (pass) {
        ctx.globalAlpha = pass[1];
        ctx.strokeStyle = colour;
        ctx.fillStyle = colour;
        ctx.lineWidth = pass[2];
        ctx.beginPath();
        var started = false;
        line.xs.forEach(function (x, i) {
          var v = pass[0][i];
          if (log && !(v > 0)) {
            started = false;
            return;
          }
          if (started) {
            ctx.lineTo(X(x), Y(v));
          } else {
            ctx.moveTo(X(x), Y(v));
            started = true;
          }
        });
        ctx.stroke();
        if (line.xs.length === 1) {
          ctx.beginPath();
          ctx.arc(X(line.xs[0]), Y(pass[0][0]), 3, 0, 2 * Math.PI);
          ctx.fill();
        }
      });
    });
    ctx.restore();
    ctx.globalAlpha = 1;
    // hover readout: nearest logged step of each shown series
    if (c.hover !== null && c.hover >= left && c.hover <= left + plotW) {
      var step = xmin + (c.hover - left) / plotW * (xmax - xmin);
      ctx.strokeStyle = theme.fgSolid;
      ctx.beginPath();
      ctx.moveTo(Math.round(c.hover) + 0.5, top);
      ctx.lineTo(Math.round(c.hover) + 0.5, top + plotH);
      ctx.stroke();
      c.readout.textContent = '';
      lines.forEach(function (line) {
        var best = 0;
        for (var i = 1; i < line.xs.length; i++) {
          if (Math.abs(line.xs[i] - step) < Math.abs(line.xs[best] - step)) {
            best = i;
          }
        }
        var text = line.name + ' @ ' + tickText(line.xs[best]) + ': ' + tickText(line.ys[best]) +
          (line.smoothed ? ' (smoothed ' + tickText(line.sm[best]) + ')' : '');
        var item = el('span', {class: 'rgr-key rgr-value', text: text});
        item.style.color = headColour(line.k);
        c.readout.appendChild(item);
        ctx.fillStyle = headColour(line.k);
        ctx.beginPath();
        ctx.arc(X(line.xs[best]), Y(line.sm[best]), 3, 0, 2 * Math.PI);
        ctx.fill();
      });
    }
  };

  function initRuns() {
    Array.prototype.forEach.call(document.querySelectorAll('.rg-run[data-run]'), function (root) {
      for (var i = 0; i < runCharts.length; i++) {
        if (runCharts[i].root === root) {
          return;
        }
      }
      var chart = new RunCharts(root);
      runCharts.push(chart);
      try {
        chart.start();
      } catch (err) {
        root.setAttribute('data-rg-error', err && err.message ? err.message : String(err));
        chart.mark();
      }
    });
  }

  var readyResolve;
  var ready = new Promise(function (resolve) {
    readyResolve = resolve;
  });

  function find(root) {
    for (var i = 0; i < viewers.length; i++) {
      if (viewers[i].root === root) {
        return viewers[i];
      }
    }
    return null;
  }

  /** The viewer the URL hash talks about: the one showing its example, else the first. */
  function hashViewer(hash) {
    var p = parseHash(hash);
    if (p.example) {
      for (var i = 0; i < viewers.length; i++) {
        if (viewers[i].example === p.example) {
          return viewers[i];
        }
      }
    }
    return viewers[0] || null;
  }

  function init() {
    var roots = document.querySelectorAll('.rg-viewer');
    var fresh = [];
    Array.prototype.forEach.call(roots, function (root) {
      if (!find(root)) {
        var viewer = new Viewer(root);
        viewers.push(viewer);
        fresh.push(viewer);
      }
    });
    var target = hashViewer(window.location.hash);
    if (target) {
      target.ownsHash = true;
    }
    fresh.forEach(function (viewer) {
      try {
        viewer.start(viewer === target ? window.location.hash : '');
      } catch (err) {
        viewer.fail(err);
      }
    });
    Promise.all(viewers.map(function (viewer) {
      return viewer.readyPromise;
    })).then(function () {
      readyResolve(true);
    });
  }

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      viewers.forEach(function (viewer) {
        if (viewer.meta && viewer.root.clientWidth !== viewer.renderedWidth) {
          viewer.render(); // sizes follow the container width
        }
      });
      runCharts.forEach(function (chart) {
        if (chart.data) {
          chart.draw();
        }
      });
    }, 200);
  });

  window.addEventListener('hashchange', function () {
    var viewer = hashViewer(window.location.hash);
    if (viewer && viewer.meta) {
      viewer.applyHash(window.location.hash, false);
    }
  });

  function watchPalette() {
    if (!window.MutationObserver || !document.body) {
      return;
    }
    var observer = new MutationObserver(function () {
      viewers.forEach(function (viewer) {
        if (viewer.meta) {
          viewer.render();
        }
      });
    });
    observer.observe(document.body, {attributes: true, attributeFilter: ['data-md-color-scheme']});
    var runObserver = new MutationObserver(function () {
      runCharts.forEach(function (chart) {
        if (chart.data) {
          chart.draw();
        }
      });
    });
    runObserver.observe(document.body, {attributes: true, attributeFilter: ['data-md-color-scheme']});
  }

  function boot() {
    watchPalette();
    init();
    initRuns();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', boot);
  } else {
    boot();
  }

  window.ReportGenViewer = {
    version: 1,
    /** Resolves once every viewer on the page has drawn for the first time. */
    ready: ready,
    /** The viewer containers on this page. */
    containers: function () {
      return viewers.map(function (viewer) {
        return viewer.root;
      });
    },
    /** {model, example, key, view, layer, heads, head, token, dir, filter, special, words, top, edges, drawn, ...} */
    state: function (root) {
      var viewer = find(root || (viewers[0] && viewers[0].root));
      return viewer ? viewer.snapshot() : null;
    },
    /** Change the state: {key, view, layer, heads (booleans), token, dir, filter, special, words, top}. */
    set: function (root, changes) {
      var viewer = find(root || (viewers[0] && viewers[0].root));
      if (viewer) {
        if (typeof changes.head === 'number') {
          changes.heads = viewer.solo(changes.head);
          delete changes.head;
        }
        viewer.set(changes);
      }
    },
    /** Numbers of the last neuron-view draw: keys, scores (q.k/sqrt d), softmax, stored, maxDiff. */
    neuron: function (root) {
      var viewer = find(root || (viewers[0] && viewers[0].root));
      return viewer && viewer.neuronResult ? JSON.parse(JSON.stringify(viewer.neuronResult)) : null;
    },
    /** The head view as an SVG string (what the SVG button saves). */
    svg: function (root) {
      var viewer = find(root || (viewers[0] && viewers[0].root));
      return viewer && viewer.layerData ? viewer.headSVG() : null;
    },
    /** Look for new .rg-viewer containers (for pages that add them later). */
    init: init,
    /** TensorBoard-style debiased EMA, as the training-run charts draw it. */
    smooth: smooth,
    /** Training-run chart containers on this page and their data keys. */
    runs: function () {
      return runCharts.map(function (chart) {
        return {key: chart.key, drawn: chart.drawn, charts: chart.charts.length};
      });
    }
  };
})();
