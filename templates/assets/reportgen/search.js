/*
 * reportgen search order: in Material's search results, the pages whose title holds a hyphenated
 * term of the query as a whole word ("3-1" in "Head 3-1 of all-MiniLM-L6-v2", "wsc-016") come first.
 *
 * Material's search (lunr) splits "3-1" at the hyphen into 3 and the prefix 1*, and has no phrase
 * search: with hundreds of head pages, "Head 3-10", "Head 10-3" or "Head 1-2 of ... step 150" rank
 * above "Head 3-1", because rarer terms (10, 150) weigh more than 1. The query, the index and the
 * search separator stay Material's own; only the order of the results changes, and lunr's order is
 * kept within the promoted pages and within the others.
 *
 * mkdocs.yml lists this script in extra.polyfills after the iframe-worker shim, so it runs before
 * Material's bundle creates its search worker: it wraps the Worker constructor and, for Material's
 * search worker only, notes each query sent and reorders the results of that query when they come
 * back (before Material's own listener reads them). hyphenTerms, titleHolds and promote are pure
 * (unit-tested in tests/js/).
 */
(function (root) {
  'use strict';

  var RG = root.ReportGenViewer = root.ReportGenViewer || {};
  var parts = RG.parts = RG.parts || {};
  if (parts.search) {
    return;
  }

  var QUERY = 2, RESULT = 3; // Material's search worker messages: a query, its results
  var SEARCH_WORKER = /(^|\/)workers\/search[^/]*\.js(\?|$)/;
  var HYPHENATED = /^[^\s"*+~^:-]+(-[^\s"*+~^:-]+)+$/; // "3-1", "wsc-016"; not "wsc-", "-1" or "3--1"

  /** The hyphenated terms of a query, lower-case, without Material's query syntax around them. */
  function hyphenTerms(query) {
    return String(query === null || query === undefined ? '' : query).toLowerCase().split(/\s+/)
      .map(function (term) {
        return term.replace(/^[+"]+/, '').replace(/["*]+$|[~^]\d*$/g, '');
      })
      .filter(function (term) {
        return HYPHENATED.test(term);
      });
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }

  /** Does this (HTML) title hold the term as a whole word: not inside "13-1", "3-10" or "3-1-2"? */
  function titleHolds(title, term) {
    var text = String(title || '').replace(/<[^>]*>/g, '').toLowerCase();
    return new RegExp('(^|[^\\w-])' + escapeRegExp(term) + '(?![\\w-])').test(text);
  }

  /** Result groups (Material: one list of items per page) with those whose title holds a term first. */
  function promote(groups, query) {
    var terms = hyphenTerms(query);
    if (!terms.length || !Array.isArray(groups)) {
      return groups;
    }
    var first = [], rest = [];
    groups.forEach(function (group) {
      var hit = (Array.isArray(group) ? group : []).some(function (item) {
        return item && terms.some(function (term) {
          return titleHolds(item.title, term);
        });
      });
      (hit ? first : rest).push(group);
    });
    return first.length ? first.concat(rest) : groups;
  }

  parts.search = {hyphenTerms: hyphenTerms, titleHolds: titleHolds, promote: promote};
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = parts.search;
    return; // node: the pure helpers only
  }

  /** The text in Material's search box now, or null when there is no such box. */
  function typedQuery() {
    var doc = root.document;
    var input = doc && doc.querySelector ? doc.querySelector('[data-md-component="search-query"]') : null;
    return input && typeof input.value === 'string' ? input.value : null;
  }

  /**
   * Note the queries sent to Material's search worker; reorder their results as they come back. Material
   * answers every query once and in order, so results pair with queries first in, first out; where the
   * search box is there, its text is what the reader sees results for, and it wins, so that one reply the
   * worker might ever skip cannot leave later results paired with the wrong query.
   */
  function watch(worker) {
    var queries = [];
    var post = worker.postMessage;
    worker.postMessage = function (message) {
      if (message && message.type === QUERY) {
        queries.push(message.data);
        if (queries.length > 32) {
          queries.shift(); // a worker that stopped answering: keep the list short
        }
      }
      return post.apply(worker, arguments);
    };
    worker.addEventListener('message', function (event) {
      var message = event.data;
      if (message && message.type === RESULT) {
        var sent = queries.shift();
        var typed = typedQuery();
        if (message.data && Array.isArray(message.data.items)) {
          message.data.items = promote(message.data.items, typed !== null ? typed : sent);
        }
      }
    });
  }

  var Base = root.Worker;
  if (typeof Base !== 'function') {
    return;
  }
  function Worker(url, options) {
    var worker = options === undefined ? new Base(url) : new Base(url, options);
    if (SEARCH_WORKER.test(String(url))) {
      watch(worker);
    }
    return worker;
  }
  Worker.prototype = Base.prototype;
  root.Worker = Worker;
})(typeof window !== 'undefined' ? window : globalThis);
