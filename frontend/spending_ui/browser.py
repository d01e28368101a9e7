"""Keeps this tab's login token in the tab's sessionStorage, so a page reload stays logged in.

sessionStorage belongs to one browser tab: another tab, browser or user never sees it, and
the Panel server keeps the token only on the session's own `AuthState`.
"""

from __future__ import annotations

import param
from panel.custom import JSComponent


class TabTokenStore(JSComponent):
    """Reads the stored token once when rendered (`loaded`), then mirrors `token` back."""

    token = param.String(default="")
    loaded = param.Boolean(default=False)

    _esm = """
    const KEY = "spending-dashboard.token"

    export function render({ model }) {
      let stored = ""
      try { stored = window.sessionStorage.getItem(KEY) || "" } catch (e) { stored = "" }
      model.token = stored
      model.loaded = true
      model.on("token", () => {
        try {
          if (model.token) { window.sessionStorage.setItem(KEY, model.token) }
          else { window.sessionStorage.removeItem(KEY) }
        } catch (e) { /* storage disabled: a reload then asks to log in again */ }
      })
      return document.createElement("span")
    }
    """


class PageBridge(JSComponent):
    """The page's own facts and gestures the server cannot see: is the viewport narrow (a
    phone, a tablet, a narrow window: the user agent does not say), and Back/Forward; date
    boxes that take typing and start their weeks on Monday; and category chips built with
    choices.js's `allowHTML` set (their labels are escaped HTML).

    On a narrow viewport the sidebar menu starts closed, and closes again when `menu_closes`
    is bumped (after a choice in it); `history_search` is the URL's query after Back/Forward;
    `sort_click` names the table column whose header was clicked; `row_action` a table row's
    button or box that was clicked ('<action>:<transaction id>#<n>').
    """

    narrow = param.Boolean(default=False)
    loaded = param.Boolean(default=False)
    history_search = param.String(default="")
    menu_closes = param.Integer(default=0)
    sort_click = param.String(default="", doc="'<column>#<n>': a click on a table header")
    row_action = param.String(default="", doc="'<action>:<id>#<n>': a click in a table row")

    _esm = """
    const NARROW_PX = 900

    function closeMenu() {
      if (window.innerWidth < NARROW_PX && typeof window.closeNav === "function") {
        window.closeNav()
      }
    }

    // The date boxes: typing a date is allowed, and the calendar's weeks start on Monday like
    // the week bars. Bokeh's DatePicker offers neither option, so its flatpickr options get
    // both, for every picker rendered after this (the dashboard's come after the login).
    function typeableMondayDatePickers() {
      const picker = window.Bokeh && window.Bokeh.Models.get("DatePicker")
      const View = picker && picker.prototype.default_view
      if (!View || View.prototype.__typeable_monday) return
      let proto = View.prototype, base = null
      while (proto && !(base = Object.getOwnPropertyDescriptor(proto, "flatpickr_options"))) {
        proto = Object.getPrototypeOf(proto)
      }
      if (!base) return
      Object.defineProperty(View.prototype, "flatpickr_options", {
        configurable: true,
        get() {
          return { ...base.get.call(this), allowInput: true, locale: { firstDayOfWeek: 1 } }
        },
      })
      View.prototype.__typeable_monday = true
    }

    // The category chips: Bokeh's MultiChoice builds choices.js without its `allowHTML`
    // option, and choices.js then warns on every render that its default (labels as HTML) will
    // change. The labels are escaped HTML (spending_ui.text.choice_options), so every
    // MultiChoice rendered after this says so explicitly; the rest is Bokeh 3.9's own render
    // (there is no hook for one option). choices.js is no named module of Bokeh's bundle:
    // CHOICES_JS is its id in Bokeh 3.9.2's, checked before use; a Bokeh upgrade that moves
    // it logs an error, which fails the browser tests.
    const CHOICES_JS = 671

    function explicitHtmlMultiChoices() {
      const Model = window.Bokeh && window.Bokeh.Models.get("MultiChoice")
      const View = Model && Model.prototype.default_view
      if (!View || View.prototype.__explicit_allow_html) return
      const Choices = window.Bokeh.require(CHOICES_JS)
      const defaults = typeof Choices === "function" && Choices.defaults
      const isChoices = defaults && defaults.templates && defaults.templates.choice
      if (!isChoices || typeof Choices.prototype._onFocus !== "function") {
        console.error(`Bokeh module ${CHOICES_JS} is not choices.js: the chips are unpatched`)
        return
      }
      // As Bokeh's own subclass: events inside the widget's shadow root name their real target.
      const retarget = (event) => Object.defineProperty(event, "target", {
        get: () => event.composedPath()[0] ?? null, configurable: true,
      })
      class ShadowChoices extends Choices {}
      for (const name of ["_onFocus", "_onBlur", "_onKeyUp", "_onKeyDown", "_onClick",
                          "_onTouchEnd", "_onMouseDown", "_onMouseOver"]) {
        ShadowChoices.prototype[name] = function (event) {
          return Choices.prototype[name].call(this, retarget(event))
        }
      }
      const baseRender = Object.getPrototypeOf(View.prototype).render
      View.prototype.render = function () {
        baseRender.call(this)
        const selected = new Set(this.model.value)
        const choices = this.model.options.map((option) => {
          const [value, label] = typeof option === "string" ? [option, option] : option
          return { value, label, selected: selected.has(value) }
        })
        const fill = this.model.solid ? "solid" : "light"
        this.choice_el = new ShadowChoices(this.input_el, {
          allowHTML: true,
          choices,
          itemSelectText: "",
          duplicateItemsAllowed: false,
          shouldSort: false,
          removeItemButton: this.model.delete_button,
          classNames: { item: `choices__item ${fill}`, button: `choices__button ${fill}` },
          placeholderValue: this.model.placeholder,
          maxItemCount: this.model.max_items ?? -1,
          renderChoiceLimit: this.model.option_limit ?? -1,
          searchResultLimit: this.model.search_option_limit ?? 4,
        })
        this.input_el.addEventListener("change", () => this.change_input())
      }
      View.prototype.__explicit_allow_html = true
    }
    // When the module loads, before any view of the page renders (the chips come later).
    explicitHtmlMultiChoices()

    export function render({ model }) {
      typeableMondayDatePickers()
      closeMenu()
      model.history_search = window.location.search
      model.narrow = window.innerWidth < NARROW_PX
      model.loaded = true
      window.addEventListener("resize", () => { model.narrow = window.innerWidth < NARROW_PX })
      window.addEventListener("popstate", () => { model.history_search = window.location.search })
      model.on("menu_closes", closeMenu)
      // Clicks on a sortable table header (a button in a view's shadow DOM: composed events
      // reach the window); the counter makes each click a change.
      let clicks = 0
      window.addEventListener("click", (event) => {
        const button = event.composedPath().find((el) => el.dataset && el.dataset.sortColumn)
        if (button) { model.sort_click = `${button.dataset.sortColumn}#${++clicks}` }
        const row = event.composedPath().find((el) => el.dataset && el.dataset.rowAction)
        if (row && row.dataset.rowAction === "select") {
          // The page's whole selection, not a toggle: when two ticks reach the server as
          // one change (the last value wins), the last one still holds both.
          const boxes = [...row.getRootNode().querySelectorAll("input.row-select")]
          const ids = (list) => list.map((box) => box.dataset.id).join(",")
          const checked = ids(boxes.filter((box) => box.checked))
          model.row_action = `select:${checked}|${ids(boxes)}#${++clicks}`
        } else if (row) {
          model.row_action = `${row.dataset.rowAction}:${row.dataset.id}#${++clicks}`
        }
      })
      return document.createElement("span")
    }
    """
