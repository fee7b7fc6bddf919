/*
 * reportgen viewer scripts, state and URL hash: which model, view, layer, heads and token a viewer
 * shows, kept valid and mirrored in the controls and in the URL hash
 *   #model=M&example=E&view=head|model|neuron|matrix|rollout|predictions&layer=L&head=H&token=T&dir=to
 * so that a view can be linked to (the head atlas links every cell this way). parseHash and formatHash
 * are pure.
 */
(function (root) {
  'use strict';

  var RG = root.ReportGenViewer = root.ReportGenViewer || {};
  var parts = RG.parts = RG.parts || {};
  if (parts.state) {
    return;
  }

  /** {name: value} of a URL hash ('#a=1&b=x%20y'); '+' is a space; malformed escapes are skipped. */
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

  /** The integer a hash value spells ('-3', ' 7 '), a number as it is, else `fallback`. */
  function intOr(value, fallback) {
    var number = parseInt(value, 10);
    return (typeof value === 'string' && /^-?\d+$/.test(value.trim())) || typeof value === 'number'
      ? number : fallback;
  }

  /**
   * The URL hash of a view: {model, example, view, layer, head (a number when one head is shown, else
   * null), token (-1: none), dir ('from' or 'to')}. parseHash reads it back.
   */
  function formatHash(h) {
    var fields = [
      'model=' + encodeURIComponent(h.model),
      'example=' + encodeURIComponent(h.example),
      'view=' + h.view,
      'layer=' + h.layer
    ];
    if (typeof h.head === 'number') {
      fields.push('head=' + h.head);
    }
    if (h.token >= 0) {
      fields.push('token=' + h.token);
      if (h.dir === 'to') {
        fields.push('dir=to');
      }
    }
    return '#' + fields.join('&');
  }

  parts.state = {parseHash: parseHash, intOr: intOr, formatHash: formatHash};
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = parts.state;
    return; // node: the pure helpers only
  }

  var core = parts.core, dom = parts.dom, viewer = parts.viewer;
  var Viewer = viewer.Viewer, VIEWS = viewer.VIEWS, registry = viewer.registry, metas = core.metas;
  var el = dom.el, clamp = dom.clamp, headColour = dom.headColour, tokenText = dom.tokenText;
  var HEAD_HELP = viewer.HEAD_HELP;

  // ----- models ------------------------------------------------------------------------------------

  Viewer.prototype.candidates = function () {
    var example = this.example;
    return core.metaOrder.filter(function (key) {
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
      ', ' + (core.isLower(meta) ? 'lower triangle' : 'full matrix') + '): every weight shown is within \u00b1' +
      maxError.toFixed(5) + ' of the model\u2019s value.';
    this.qkError = meta.quant && typeof meta.quant.qk_max_error === 'number' ? meta.quant.qk_max_error : null;
    if (meta.qk_files && Object.keys(meta.qk_files).length) {
      noteText += ' Neuron view: query and key vectors are stored as float16' + (this.qkError === null ? '.'
        : '; softmax(q\u00b7k/\u221ad) computed from them is within \u00b1' + dom.smallNumber(this.qkError) +
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

  // ----- state -------------------------------------------------------------------------------------

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
    if (registry[s.view].singleHead && this.selectedHeads().length !== 1) {
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
    var s = this.state, selected = this.selectedHeads();
    return formatHash({
      model: this.meta.model, example: this.meta.example, view: s.view, layer: s.layer,
      head: selected.length === 1 ? selected[0] : null, token: s.token, dir: s.dir
    });
  };

  Viewer.prototype.writeHash = function () {
    if (!this.meta || viewer.viewers[0] !== this && !this.ownsHash || this.root.getAttribute('data-rg-hash') === 'off') {
      return; // several viewers on one page: only the first one owns the hash; embedded ones never do
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
})(typeof window !== 'undefined' ? window : globalThis);
