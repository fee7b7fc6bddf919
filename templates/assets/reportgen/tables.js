/*
 * reportgen tables: every <table class="rg-sortable"> sorts by any column (a button in each header
 * cell: click or Enter; again to reverse), and a <form class="rg-filters" data-for="TABLE_ID"> of
 * <select data-filter="NAME"> narrows its rows to those whose data-NAME attribute holds the chosen
 * value (space-separated lists allowed; "" keeps every row). A cell's data-sort overrides its text.
 * A form with data-rows="NAME" filters the whole list in window[NAME] ({per_page, rows}: the example
 * list, split over several pages) instead of this page's rows: the matches replace the table's rows,
 * per_page at a time, and sorting sorts all the matches; with no filter the page's own rows come back.
 * sortKey, compareKeys, rowMatches and pageSpan are pure (unit-tested in tests/js/).
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

  /** Rows [start, end) of page `page` (0-based, clamped) of `count` rows, `size` a page; pages >= 1. */
  function pageSpan(count, page, size) {
    var pages = Math.max(1, Math.ceil(count / size)), at = Math.min(Math.max(0, page), pages - 1);
    return {page: at, pages: pages, start: at * size, end: Math.min(count, (at + 1) * size)};
  }

  parts.tables = {sortKey: sortKey, compareKeys: compareKeys, rowMatches: rowMatches, pageSpan: pageSpan};
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
    table.dispatchEvent(new root.CustomEvent('rg-sorted')); // a paged filter shows its first page again
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

  function cell(children) {
    var td = document.createElement('td');
    children.forEach(function (child) {
      td.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return td;
  }

  /** A row of the example list from its data (the same cells as the page's own rows). */
  function listRow(data) {
    var tr = document.createElement('tr'), link = null;
    ['language', 'models', 'annotation'].forEach(function (name) {
      tr.setAttribute('data-' + name, data[name]);
    });
    if (data.href) {
      link = document.createElement('a');
      link.href = data.href;
      link.textContent = data.id;
    }
    function text(value) {
      var span = document.createElement('span');
      span.dir = 'auto';
      span.textContent = value;
      return span;
    }
    [cell([String(data.n)]), cell([link || data.id]), cell([data.language]), cell([text(data.a)]),
      cell(data.b === null || data.b === undefined ? [] : [text(data.b)]), cell([String(data.pairs)]),
      cell([data.names])].forEach(function (td) {
      tr.appendChild(td);
    });
    return tr;
  }

  /**
   * Filters over the whole list (form data-rows): the matches replace the page's rows, a page of
   * list.per_page at a time with previous/next buttons; no filter brings the page's own rows back.
   */
  function wireListFilters(form, table, list) {
    var selects = form.querySelectorAll('select[data-filter]'), count = form.querySelector('.rg-filter-count');
    var pager = form.querySelector('.rg-filter-pager'), body = table.tBodies[0];
    var own = Array.prototype.slice.call(body.rows), matches = null, page = 0, size = list.per_page || 100;
    function showPage() {
      var rows = Array.prototype.slice.call(body.rows), span = pageSpan(rows.length, page, size);
      page = span.page;
      rows.forEach(function (row, k) {
        row.hidden = k < span.start || k >= span.end;
      });
      count.textContent = rows.length + ' of ' + list.rows.length + ' examples match' +
        (span.pages > 1 ? '; showing ' + (span.start + 1) + '\u2013' + span.end : '');
      pager.textContent = '';
      if (span.pages > 1) {
        [['previous', -1], ['next', 1]].forEach(function (item) {
          var button = document.createElement('button');
          button.type = 'button';
          button.className = 'rg-button rg-page-' + item[0];
          button.textContent = item[0] === 'next' ? 'next ' + size + ' \u2192' : '\u2190 previous ' + size;
          button.disabled = item[1] < 0 ? page === 0 : page === span.pages - 1;
          button.addEventListener('click', function () {
            page += item[1];
            showPage();
          });
          pager.appendChild(button);
        });
      }
    }
    function apply() {
      var filters = {}, any = false;
      Array.prototype.forEach.call(selects, function (select) {
        filters[select.getAttribute('data-filter')] = select.value;
        any = any || !!select.value;
      });
      body.textContent = '';
      page = 0;
      if (!any) {
        matches = null;
        own.forEach(function (row) {
          row.hidden = false;
          body.appendChild(row);
        });
        count.textContent = list.rows.length > own.length ? 'this page: ' + own.length + ' of ' + list.rows.length +
          ' examples; a filter searches all of them' : own.length + ' of ' + own.length + ' shown';
        pager.textContent = '';
        return;
      }
      matches = list.rows.filter(function (data) {
        return rowMatches(data, filters);
      });
      matches.forEach(function (data) {
        body.appendChild(listRow(data));
      });
      showPage();
    }
    table.addEventListener('rg-sorted', function () {
      if (matches) {
        page = 0;
        showPage();
      }
    });
    Array.prototype.forEach.call(selects, function (select) {
      select.addEventListener('change', apply);
    });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
    });
    apply();
  }

  function wireFilters(form) {
    var table = document.getElementById(form.getAttribute('data-for'));
    if (!table) {
      return;
    }
    var list = form.getAttribute('data-rows') && root[form.getAttribute('data-rows')];
    if (list && list.rows && form.querySelector('.rg-filter-count') && form.querySelector('.rg-filter-pager')) {
      wireListFilters(form, table, list);
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
