/*
 * reportgen tables: every <table class="rg-sortable"> sorts by any column (a button in each header
 * cell: click or Enter; again to reverse), and a <form class="rg-filters" data-for="TABLE_ID"> of
 * <select data-filter="NAME"> narrows its rows to those whose data-NAME attribute holds the chosen
 * value (space-separated lists allowed; "" keeps every row). A cell's data-sort overrides its text.
 * sortKey, compareKeys and rowMatches are pure (unit-tested in tests/js/).
 */
(function (root) {
  'use strict';

  var RG = root.ReportGenViewer = root.ReportGenViewer || {};
  var parts = RG.parts = RG.parts || {};
  if (parts.tables) {
    return;
  }

  /** A cell's sort key: a number when the text is one ("0.512", "-3", "12 of 72"), else lower-case text. */
  function sortKey(text) {
    var value = String(text === null || text === undefined ? '' : text).trim();
    var match = /^[-+\u2212]?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(value.replace('\u2212', '-'));
    return match ? {num: parseFloat(match[0].replace('\u2212', '-')), text: value}
      : {num: null, text: value.toLowerCase()};
  }

  /** Numbers before text, numbers by value, text alphabetically (locale-aware); empty cells last. */
  function compareKeys(a, b) {
    var emptyA = a.num === null && a.text === '', emptyB = b.num === null && b.text === '';
    if (emptyA || emptyB) {
      return emptyA === emptyB ? 0 : (emptyA ? 1 : -1);
    }
    if (a.num !== null && b.num !== null) {
      return a.num - b.num;
    }
    if (a.num !== null || b.num !== null) {
      return a.num !== null ? -1 : 1;
    }
    return a.text.localeCompare(b.text);
  }

  /** Does a row ({name: 'value list'}) pass every filter ({name: wanted or ''})? */
  function rowMatches(data, filters) {
    return Object.keys(filters).every(function (name) {
      var wanted = filters[name];
      if (!wanted) {
        return true;
      }
      return String(data[name] || '').split(' ').indexOf(wanted) >= 0;
    });
  }

  parts.tables = {sortKey: sortKey, compareKeys: compareKeys, rowMatches: rowMatches};
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = parts.tables;
    return; // node: the pure helpers only
  }

  function cellKey(row, column) {
    var cell = row.cells[column];
    if (!cell) {
      return sortKey('');
    }
    return sortKey(cell.hasAttribute('data-sort') ? cell.getAttribute('data-sort') : cell.textContent);
  }

  function sortBy(table, column, button) {
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    var th = button.parentElement, ascending = th.getAttribute('aria-sort') !== 'ascending';
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute('aria-sort');
    });
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    var keyed = rows.map(function (row, index) {
      return {row: row, key: cellKey(row, column), index: index};
    });
    keyed.sort(function (x, y) {
      var order = compareKeys(x.key, y.key);
      if (!ascending && !(x.key.num === null && x.key.text === '') && !(y.key.num === null && y.key.text === '')) {
        order = -order;
      }
      return order || x.index - y.index; // stable
    });
    keyed.forEach(function (item) {
      body.appendChild(item.row);
    });
  }

  function makeSortable(table) {
    if (!table.tHead || !table.tBodies.length || table.getAttribute('data-rg-sortable')) {
      return;
    }
    table.setAttribute('data-rg-sortable', '1');
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'rg-sort';
      button.title = 'Sort by this column (again: reverse)';
      while (th.firstChild) {
        button.appendChild(th.firstChild);
      }
      th.appendChild(button);
      button.addEventListener('click', function () {
        sortBy(table, column, button);
      });
    });
  }

  function wireFilters(form) {
    var table = document.getElementById(form.getAttribute('data-for'));
    if (!table) {
      return;
    }
    var selects = form.querySelectorAll('select[data-filter]'), count = form.querySelector('.rg-filter-count');
    function apply() {
      var filters = {}, shown = 0, rows = table.tBodies[0].rows;
      Array.prototype.forEach.call(selects, function (select) {
        filters[select.getAttribute('data-filter')] = select.value;
      });
      Array.prototype.forEach.call(rows, function (row) {
        var data = {};
        Object.keys(filters).forEach(function (name) {
          data[name] = row.getAttribute('data-' + name);
        });
        var ok = rowMatches(data, filters);
        row.hidden = !ok;
        shown += ok ? 1 : 0;
      });
      if (count) {
        count.textContent = shown + ' of ' + rows.length + ' shown';
      }
    }
    Array.prototype.forEach.call(selects, function (select) {
      select.addEventListener('change', apply);
    });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
    });
    apply();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll('table.rg-sortable'), makeSortable);
    Array.prototype.forEach.call(document.querySelectorAll('form.rg-filters[data-for]'), wireFilters);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
  RG.tables = init;
})(typeof window !== 'undefined' ? window : globalThis);
