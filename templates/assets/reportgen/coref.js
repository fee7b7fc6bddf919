/*
 * reportgen viewer scripts, coreference: marks the annotated pronoun, antecedent and other candidates
 * of an example (meta.coref, one entry per pair: token lists by role and the stored word-level weights
 * W[layer][head][candidate] under the build's span rule) in the views, with a legend and a panel of the
 * current layer's weights per head. The pair shown is the one whose pronoun holds the pinned token,
 * else the first. roleOfTokens and pairFor are pure (unit-tested in tests/js/).
 */
(function (root) {
  'use strict';

  var RG = root.ReportGenViewer = root.ReportGenViewer || {};
  var parts = RG.parts = RG.parts || {};
  if (parts.coref) {
    return;
  }

  var ROLES = ['pronoun', 'antecedent', 'candidate'];
  var ROLE_TEXT = {pronoun: 'pronoun', antecedent: 'antecedent', candidate: 'other candidate'};
  // canvas marks (matrix view); the CSS of token elements uses the same colours (viewer.css)
  var COLOURS = {pronoun: '#d81b60', antecedent: '#2e9d4a', candidate: '#e0a000'};

  /** Index of the pair to show: the one whose pronoun holds `token`, else 0 (-1: no pairs). */
  function pairFor(pairs, token) {
    if (!pairs || !pairs.length) {
      return -1;
    }
    for (var k = 0; k < pairs.length; k++) {
      if (token >= 0 && pairs[k].pronoun.indexOf(token) >= 0) {
        return k;
      }
    }
    return 0;
  }

  /** {token: role} of one pair: pronoun first, then the antecedent, then the other candidates. */
  function roleOfTokens(pair) {
    var out = {};
    if (!pair) {
      return out;
    }
    (pair.candidates || []).forEach(function (tokens) {
      tokens.forEach(function (t) {
        out[t] = 'candidate';
      });
    });
    (pair.antecedent || []).forEach(function (t) {
      out[t] = 'antecedent';
    });
    (pair.pronoun || []).forEach(function (t) {
      out[t] = 'pronoun';
    });
    return out;
  }

  /** The role of a unit (its tokens' strongest role: pronoun > antecedent > candidate), or ''. */
  function unitRole(roles, tokens) {
    var best = '';
    tokens.forEach(function (t) {
      var role = roles[t];
      if (role && (!best || ROLES.indexOf(role) < ROLES.indexOf(best))) {
        best = role;
      }
    });
    return best;
  }

  /**
   * The marked tokens of a sequence of n tokens, in token order: [{token, role}] for every token of
   * `roles` ({token: role}) inside 0..n-1 (a pair cut off by truncation marks only what is left).
   */
  function tokenMarks(roles, n) {
    var out = [];
    Object.keys(roles || {}).forEach(function (key) {
      var t = Number(key);
      if (t >= 0 && t < n && t === Math.floor(t)) {
        out.push({token: t, role: roles[key]});
      }
    });
    out.sort(function (a, b) {
      return a.token - b.token;
    });
    return out;
  }

  parts.coref = {pairFor: pairFor, roleOfTokens: roleOfTokens, unitRole: unitRole, tokenMarks: tokenMarks,
    ROLES: ROLES, COLOURS: COLOURS};
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = parts.coref;
    return; // node: the pure helpers only
  }

  var dom = parts.dom, Viewer = parts.viewer.Viewer, el = dom.el, fixed = dom.fixed;

  /** The pair shown now (null when the example has no annotation). */
  Viewer.prototype.corefPair = function () {
    var pairs = this.meta && this.meta.coref;
    var k = pairFor(pairs, this.state.token);
    return k < 0 ? null : {index: k, pair: pairs[k]};
  };

  /** {token: role} of the pair shown now. */
  Viewer.prototype.corefRoles = function () {
    var found = this.corefPair();
    return found ? roleOfTokens(found.pair) : {};
  };

  /** [{token, role}] of the pair shown now, for views that draw tokens on a canvas (model, neuron). */
  Viewer.prototype.corefMarks = function () {
    return this.meta ? tokenMarks(this.corefRoles(), this.meta.n) : [];
  };

  /**
   * Draw the marks on a canvas: for each marked token, a bar in its role's colour at the rectangle
   * box(token) returns ({x, y, w, h}, or null to skip); pronoun bars are drawn last, on top.
   */
  parts.coref.drawMarks = function (ctx, marks, box) {
    ROLES.slice().reverse().forEach(function (role) {
      ctx.fillStyle = COLOURS[role];
      marks.forEach(function (mark) {
        var r = mark.role === role ? box(mark.token) : null;
        if (r) {
          ctx.fillRect(r.x, r.y, r.w, r.h);
        }
      });
    });
  };

  /** Mark the token elements of the head view (data-coref-role). */
  Viewer.prototype.markCorefTokens = function () {
    var roles = this.corefRoles(), list = this.units().list;
    [this.leftColumn, this.rightColumn].forEach(function (column) {
      var nodes = column.children;
      for (var u = 0; u < nodes.length; u++) {
        var role = list[u] ? unitRole(roles, list[u].tokens) : '';
        if (role) {
          nodes[u].setAttribute('data-coref-role', role);
        } else if (nodes[u].hasAttribute('data-coref-role')) {
          nodes[u].removeAttribute('data-coref-role');
        }
      }
    });
  };

  /** The legend and the weights panel above the views; hidden for examples without annotation. */
  Viewer.prototype.renderCoref = function () {
    var self = this, found = this.corefPair(), meta = this.meta, s = this.state;
    if (!this.corefBox) {
      this.corefBox = el('div', {class: 'rgv-coref', role: 'group', 'aria-label': 'Coreference'});
      this.root.insertBefore(this.corefBox, this.message);
    }
    var box = this.corefBox;
    box.classList.toggle('rgv-hidden', !found);
    if (!found) {
      return;
    }
    var pair = found.pair, signature = meta.key + '|' + found.index + '|' + s.layer + '|' + this.selectedHeads().join(',');
    if (box.getAttribute('data-signature') === signature) {
      return;
    }
    box.setAttribute('data-signature', signature);
    box.setAttribute('data-pair', String(found.index));
    box.textContent = '';
    var summary = el('div', {class: 'rgv-coref-title'}, [el('strong', {text: 'Coreference'}), el('span', {text: ': '}),
      el('span', {class: 'rgv-quote', dir: 'auto', text: pair.pronoun_text}),
      el('span', {text: ' \u2192 '}), el('span', {class: 'rgv-quote', dir: 'auto', text: pair.antecedent_text}),
      el('span', {text: (meta.coref.length > 1 ? ' (pair ' + (found.index + 1) + ' of ' + meta.coref.length + ')' : '')})]);
    box.appendChild(summary);
    var legend = el('div', {class: 'rgv-coref-legend', 'aria-label': 'coreference marks'});
    ROLES.forEach(function (role) {
      legend.appendChild(el('span', {class: 'rgv-coref-key', 'data-coref-role': role, text: ROLE_TEXT[role]}));
    });
    if (meta.coref.length > 1) {
      meta.coref.forEach(function (p, k) {
        legend.appendChild(el('button', {type: 'button', class: 'rgv-button rgv-small' + (k === found.index ? ' rgv-active' : ''),
          text: 'pair ' + (k + 1) + ': ' + p.pronoun_text, onclick: function () {
            if (p.pronoun.length) {
              self.set({token: p.pronoun[0], dir: 'from'});
            }
          }}));
      });
    }
    box.appendChild(legend);
    if (!pair.weights) {
      box.appendChild(el('p', {class: 'rgv-hint', text: 'This pair was cut off by truncation: no weights.'}));
      return;
    }
    box.appendChild(el('p', {class: 'rgv-hint', text: 'W: the pronoun\u2019s word-level attention to each candidate in ' +
      'layer ' + s.layer + ' (mean over the pronoun\u2019s pieces of the sum over the candidate\u2019s pieces; a ' +
      'candidate of several words under the build\u2019s span rule). A head is right when the antecedent gets ' +
      'strictly the most. Click a head to show it alone.'}));
    // one column per head of the layer, one row per candidate (compact: the head view stays on screen)
    var table = el('table', {class: 'rgv-weights rgv-coref-table'});
    var layer = pair.weights[s.layer] || [], selected = this.selectedHeads();
    var verdicts = layer.map(function (row) {
      var best = -Infinity, count = 0;
      row.forEach(function (w) {
        if (w !== null && w > best) {
          best = w;
          count = 1;
        } else if (w !== null && w === best) {
          count += 1;
        }
      });
      return {best: best, right: count === 1 && row[pair.antecedent_index] === best};
    });
    var headRow = el('tr', {}, [el('th', {text: 'head'})]);
    layer.forEach(function (row, h) {
      headRow.appendChild(el('th', {class: 'rgv-coref-head' + (selected.length === 1 && selected[0] === h ? ' rgv-current' : ''),
        'data-head': h, tabindex: '0', title: 'Show head ' + s.layer + '-' + h + ' alone', text: s.layer + '-' + h,
        onclick: function () {
          self.set({heads: self.solo(h)});
        }, onkeydown: function (event) {
          if (event.key === 'Enter') {
            self.set({heads: self.solo(h)});
          }
        }}));
    });
    table.appendChild(el('thead', {}, [headRow]));
    var body = el('tbody');
    pair.candidate_texts.forEach(function (text, c) {
      var tr = el('tr', {'data-candidate': c}, [el('th', {dir: 'auto', 'data-coref-role':
        c === pair.antecedent_index ? 'antecedent' : 'candidate', text: text})]);
      layer.forEach(function (row, h) {
        var w = row[c];
        tr.appendChild(el('td', {class: 'rgv-num' + (w !== null && w === verdicts[h].best ? ' rgv-best' : ''),
          'data-head': h, 'data-value': String(w), text: w === null ? '\u2013' : fixed(w, 3)}));
      });
      body.appendChild(tr);
    });
    var verdictRow = el('tr', {class: 'rgv-coref-verdict'}, [el('th', {text: 'right?'})]);
    verdicts.forEach(function (v, h) {
      verdictRow.appendChild(el('td', {class: v.right ? 'rgv-right' : 'rgv-wrong', 'data-head': h,
        text: v.right ? '\u2713' : '\u2717'}));
    });
    body.appendChild(verdictRow);
    table.appendChild(body);
    box.appendChild(el('div', {class: 'rgv-table-wrap'}, [table]));
  };
})(typeof window !== 'undefined' ? window : globalThis);
