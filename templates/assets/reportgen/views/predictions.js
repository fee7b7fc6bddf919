/*
 * reportgen viewer scripts, predictions view: for a chosen word, masked (one mask per word piece), the
 * masked-LM head's 10 most likely tokens for its first piece, from the example's P.js file.
 */
(function () {
  'use strict';

  var parts = window.ReportGenViewer.parts;
  var core = parts.core, dom = parts.dom, Viewer = parts.viewer.Viewer;
  var el = dom.el, tokenText = dom.tokenText, sizeCanvas = dom.sizeCanvas, ellipsize = dom.ellipsize;
  var rgbText = dom.rgbText;

  /** Build the predictions view's pane: word buttons, a bar chart (canvas) and a table of the top 10. */
  function build() {
    this.predMessage = el('div', {class: 'rgv-hint'});
    this.predWords = el('div', {class: 'rgv-pred-words', role: 'group', 'aria-label': 'Masked word'});
    this.predCanvas = el('canvas', {class: 'rgv-pred-canvas', 'aria-label': 'Top predictions'});
    this.predTable = el('table', {class: 'rgv-pred-table'});
    this.predNote = el('div', {class: 'rgv-readout'});
    this.predWord = null;
    return el('div', {class: 'rgv-pane rgv-predictions-pane'}, [
      this.predMessage, this.predWords, this.predNote, this.predCanvas, this.predTable
    ]);
  }

  function render(generation) {
    if (!core.dataFile(this.meta, 'predictions', 0)) {
      var info = this.meta.predictions;
      this.predWord = null;
      this.predWords.textContent = '';
      this.predTable.textContent = '';
      this.predNote.textContent = '';
      this.predCanvas.classList.add('rgv-hidden');
      this.predMessage.textContent = info && info.text ? String(info.text)
        : 'No masked-token predictions are stored for this example.';
      if (info && info.status === 'no-head') {
        this.predMessage.appendChild(this.headedModels());
      }
      this.showMessage('');
      this.markDrawn();
      return;
    }
    this.loadAndDraw(generation, 'predictions', this.drawPredictions);
  }

  /** Where predictions are: the site's models with a masked-LM head (data-mlm-models on the viewer). */
  Viewer.prototype.headedModels = function () {
    var self = this, list, here = {};
    try {
      list = JSON.parse(this.root.getAttribute('data-mlm-models') || '[]');
    } catch (err) {
      list = [];
    }
    this.candidates().forEach(function (meta) {
      here[meta.model] = meta.key;
    });
    var box = el('p', {class: 'rgv-pred-elsewhere'});
    if (!list.length) {
      box.textContent = 'No model on this site has a masked-LM head.';
      return box;
    }
    box.appendChild(el('span', {text: 'Models on this site with a masked-LM head: '}));
    list.forEach(function (model, k) {
      if (k) {
        box.appendChild(el('span', {text: ', '}));
      }
      if (here[model.slug]) {
        box.appendChild(el('button', {type: 'button', class: 'rgv-button rgv-small', 'data-model': model.slug,
          text: 'show ' + model.name + ' on this example', onclick: function () {
            self.set({key: here[model.slug]});
          }}));
      } else {
        box.appendChild(el('a', {href: '../models/' + encodeURIComponent(model.slug) + '.html', 'data-model': model.slug,
          text: model.name + ' (not run on this example)'}));
      }
    });
    return box;
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

  parts.viewer.register('predictions', {
    title: 'Predictions', build: build, render: render,
    exportCanvas: function () {
      return this.predWord ? this.predCanvas : null;
    }
  });
})();
