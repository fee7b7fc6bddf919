/*
 * reportgen viewer scripts, page wiring: turns every <div class="rg-viewer"> into a viewer once the
 * page is parsed, routes the URL hash to the viewer it names, redraws on resize and on a light/dark
 * palette switch, and publishes window.ReportGenViewer's API (used by tests and other scripts).
 * Loaded after core, dom, links, viewer, state, the views and export (reportgen/render/assets.py).
 */
(function () {
  'use strict';

  var RG = window.ReportGenViewer, parts = RG.parts;
  if (parts.boot) {
    return;
  }
  parts.boot = true;
  var Viewer = parts.viewer.Viewer, viewers = parts.viewer.viewers, parseHash = parts.state.parseHash;

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
    var p = parseHash(hash), own = viewers.filter(function (v) {
      return v.root.getAttribute('data-rg-hash') !== 'off'; // notebook views leave the page's URL alone
    });
    if (p.example) {
      for (var i = 0; i < own.length; i++) {
        if (own[i].example === p.example) {
          return own[i];
        }
      }
    }
    return own[0] || null;
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
    // A link into the viewer (atlas, head pages: #...&layer=..&head=..) lands on the viewer, not the page
    // top: now, and again once the page has loaded (the theme's scripts may scroll back to the top).
    var p = parseHash(window.location.hash);
    if (target && (p.view || p.layer || p.head || p.token) && target.root.scrollIntoView) {
      var moved = false; // the reader scrolled on their own: leave the page where it is
      ['wheel', 'touchstart', 'keydown'].forEach(function (name) {
        window.addEventListener(name, function () {
          moved = true;
        }, {once: true, passive: true});
      });
      var land = function () {
        if (!moved) {
          target.root.scrollIntoView({block: 'start'});
        }
      };
      land();
      target.readyPromise.then(land);
      window.addEventListener('load', function () {
        window.setTimeout(land, 0);
      });
    }
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
  }

  function boot() {
    watchPalette();
    init();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', boot);
  } else {
    boot();
  }

  /** Resolves once every viewer on the page has drawn for the first time. */
  RG.ready = ready;
  /** The viewer containers on this page. */
  RG.containers = function () {
    return viewers.map(function (viewer) {
      return viewer.root;
    });
  };
  /** {model, example, key, view, layer, heads, head, token, dir, filter, special, words, top, edges, drawn, ...} */
  RG.state = function (root) {
    var viewer = find(root || (viewers[0] && viewers[0].root));
    return viewer ? viewer.snapshot() : null;
  };
  /** Change the state: {key, view, layer, heads (booleans), head (one number), token, dir, filter, special, words, top}. */
  RG.set = function (root, changes) {
    var viewer = find(root || (viewers[0] && viewers[0].root));
    if (viewer) {
      if (typeof changes.head === 'number') {
        changes.heads = viewer.solo(changes.head);
        delete changes.head;
      }
      viewer.set(changes);
    }
  };
  /** Numbers of the last neuron-view draw: keys, scores (q.k/sqrt d), softmax, stored, maxDiff. */
  RG.neuron = function (root) {
    var viewer = find(root || (viewers[0] && viewers[0].root));
    return viewer && viewer.neuronResult ? JSON.parse(JSON.stringify(viewer.neuronResult)) : null;
  };
  /** The head view as an SVG string (what the SVG button saves). */
  RG.svg = function (root) {
    var viewer = find(root || (viewers[0] && viewers[0].root));
    return viewer && viewer.layerData ? viewer.headSVG() : null;
  };
  /** Look for new .rg-viewer containers (for pages that add them later). */
  RG.init = init;
})();
