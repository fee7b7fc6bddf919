/*
 * reportgen viewer scripts, core: the data queue, decoding of the data files, the memory budget of
 * decoded data and on-demand loading of data files.
 *
 * Every script of the viewer is a classic script (no modules, no workers, no network), so that pages
 * work from file://. Data arrives as classic scripts that push plain objects onto the global queue
 * window.RG_DATA (see DEVELOPERS.md, "Viewer data files"):
 *   {kind: 'meta', key, model, example, layers, heads, n, causal, tokens, ..., layer_files, qk_files}
 *   {kind: 'layer', key, layer, data}      base64 uint8 [H, n, n] (or packed lower triangles)
 *   {kind: 'qk', key, layer, heads, n, d, q, k}   base64 float16 little-endian [H, n, d]
 *   {kind: 'rollout', key, layers, n, data}   base64 uint8 [L, n, n]: attention rollout up to each layer
 *   {kind: 'predictions', key, words: [{word, text, pieces, actual, top: [[token, prob], ...]}]}
 *   {kind: 'run', key, name, charts: [{key, title, what, log, series: [{name, points}]}], best}
 * Meta scripts sit in the page; layer, q/k, rollout and prediction files are loaded on demand with
 * <script src>.
 *
 * Globals: window.RG_DATA (the queue) and window.ReportGenViewer (a small API, used by tests); the
 * scripts share their parts through ReportGenViewer.parts (core, dom, links, state, viewer, views,
 * runs). Which scripts a page loads, and in which order, is listed once in reportgen/render/assets.py.
 * Pure helpers are exported to node (module.exports) for the unit tests in tests/js/.
 */
(function (root) {
  'use strict';

  var RG = root.ReportGenViewer = root.ReportGenViewer || {};
  var parts = RG.parts = RG.parts || {};
  if (parts.core) {
    return; // loaded twice: the first copy already handles the queue
  }
  RG.version = 1;

  var DATA_KINDS = {layer: 'attention', qk: 'query/key', rollout: 'rollout', predictions: 'predictions'};
  var DECODED_BUDGET = 400 * 1024 * 1024; // bytes of decoded layers kept in memory

  var metas = {};          // key -> meta object
  var metaOrder = [];      // keys in order of arrival (page order)
  var raw = {};            // 'layer|KEY|L' or 'qk|KEY|L' -> data object as pushed
  var decoded = {};        // same ids -> decoded typed arrays
  var decodedOrder = [];   // ids, oldest first (memory budget)
  var decodedBytes = 0;
  var pending = {};        // ids -> promise of decoded data
  var scriptLoads = {};    // data file path -> promise that its script has run
  var runData = {};        // training runs: key -> run object
  var listeners = {meta: [], run: []};

  /** Call fn(item) for every meta (kind 'meta') or training run (kind 'run') object that arrives from now on. */
  function subscribe(kind, fn) {
    listeners[kind].push(fn);
  }

  function receive(item) {
    if (!item || typeof item !== 'object') {
      return;
    }
    if (item.kind === 'meta' && typeof item.key === 'string') {
      if (!metas[item.key]) {
        metaOrder.push(item.key);
      }
      metas[item.key] = item;
      listeners.meta.forEach(function (fn) {
        fn(item);
      });
    } else if ((item.kind === 'layer' || item.kind === 'qk') && typeof item.key === 'string') {
      raw[item.kind + '|' + item.key + '|' + item.layer] = item;
    } else if ((item.kind === 'rollout' || item.kind === 'predictions') && typeof item.key === 'string') {
      raw[item.kind + '|' + item.key + '|0'] = item;
    } else if (item.kind === 'run' && typeof item.key === 'string') {
      runData[item.key] = item;
      listeners.run.forEach(function (fn) {
        fn(item);
      });
    }
  }

  var queue = root.RG_DATA = root.RG_DATA || [];
  queue.splice(0).forEach(receive);
  queue.push = function () {
    for (var i = 0; i < arguments.length; i++) {
      receive(arguments[i]);
    }
    return queue.length;
  };

  // ----- decoding (pure) ---------------------------------------------------------------------------

  function base64Bytes(text) {
    var binary = root.atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  /** The number an IEEE 754 half-precision bit pattern (an integer 0..65535) stands for. */
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

  /** Float64Array of little-endian float16 values stored in `bytes` (two bytes each). */
  function float16Array(bytes) {
    var out = new Float64Array(bytes.length >> 1);
    for (var i = 0; i < out.length; i++) {
      out[i] = float16(bytes[2 * i] | (bytes[2 * i + 1] << 8));
    }
    return out;
  }

  /** Whether a meta's layer files hold only the lower triangle of each head's rows. */
  function isLower(meta) {
    if (meta.quant && meta.quant.packing) {
      return meta.quant.packing === 'lower';
    }
    return !!meta.causal;
  }

  /**
   * uint8 [heads, n, n] from packed lower triangles (row i of each head keeps its first i + 1 weights,
   * row after row); the upper triangle is 0.
   */
  function unpackLower(bytes, heads, n) {
    var out = new Uint8Array(heads * n * n), src = 0;
    for (var h = 0; h < heads; h++) {
      for (var i = 0; i < n; i++) {
        out.set(bytes.subarray(src, src + i + 1), (h * n + i) * n);
        src += i + 1;
      }
    }
    return out;
  }

  /** uint8 [H, n, n] of one layer, unpacking lower triangles when the file holds only those. */
  function decodeLayer(meta, item) {
    var n = meta.n, heads = meta.heads, bytes = base64Bytes(item.data);
    var lower = isLower(meta), per = lower ? n * (n + 1) / 2 : n * n;
    if (bytes.length !== heads * per) {
      throw new Error('Layer ' + item.layer + ' of ' + meta.key + ' holds ' + bytes.length +
        ' bytes; expected ' + heads * per + '.');
    }
    return lower ? unpackLower(bytes, heads, n) : bytes;
  }

  function decodeQK(meta, item) {
    var q = float16Array(base64Bytes(item.q)), k = float16Array(base64Bytes(item.k));
    var size = item.heads * item.n * item.d;
    if (q.length !== size || k.length !== size || item.n !== meta.n) {
      throw new Error('Query/key data of layer ' + item.layer + ' does not match ' + meta.key + '.');
    }
    return {heads: item.heads, n: item.n, d: item.d, q: q, k: k};
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

  // ----- memory budget -----------------------------------------------------------------------------

  function byteSize(value) {
    if (value.byteLength) {
      return value.byteLength;
    }
    return value.q ? value.q.byteLength + value.k.byteLength : (value.size || 1024);
  }

  /** Keep a decoded value; the oldest ones go once they take more than DECODED_BUDGET bytes. */
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

  function takeRaw(meta, kind, id) {
    var item = raw[id];
    delete raw[id]; // the base64 text is not needed once decoded
    var decoders = {layer: decodeLayer, qk: decodeQK, rollout: decodeRollout, predictions: decodePredictions};
    return remember(id, decoders[kind](meta, item));
  }

  // ----- on-demand loading ---------------------------------------------------------------------------

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
        var script = root.document.createElement('script');
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
        root.document.head.appendChild(script);
      });
    }
    return scriptLoads[path];
  }

  /** Promise of the decoded layer (kind 'layer'), query/key vectors ('qk'), rollout or predictions. */
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

  /** The decoded layer if it is at hand without loading anything, else null. */
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

  parts.core = {
    DATA_KINDS: DATA_KINDS, DECODED_BUDGET: DECODED_BUDGET,
    metas: metas, metaOrder: metaOrder, runData: runData, subscribe: subscribe,
    base64Bytes: base64Bytes, float16: float16, float16Array: float16Array, isLower: isLower,
    unpackLower: unpackLower, decodeLayer: decodeLayer, decodeQK: decodeQK,
    dataFile: dataFile, dataPath: dataPath, load: load, cachedLayer: cachedLayer
  };
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = parts.core;
  }
})(typeof window !== 'undefined' ? window : globalThis);
