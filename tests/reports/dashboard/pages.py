"""Reading the report pages as a person's browser gets them: the dashboard's cells and the heat
map's cells, with their shown text, hover text and the data- attributes (the raw numbers)."""

from html.parser import HTMLParser


class _Cells(HTMLParser):
    """Collects every ``<td>`` with ``data-metric`` (dashboard) or ``data-n`` (heat map): its
    attributes, the row it is in, its visible text by class, and its links."""

    def __init__(self):
        super().__init__()
        self.cells, self.ids, self.links, self.images = [], set(), [], []
        self._row, self._cell, self._span = None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag == "img":
            self.images.append(attrs)
        if tag == "tr":
            self._row = attrs.get("data-channel")
        elif tag == "td" and ("data-metric" in attrs or "data-n" in attrs):
            self._cell = {"row": self._row, "attrs": attrs, "text": {}, "links": []}
            self.cells.append(self._cell)
        elif self._cell is not None:
            if tag == "span":
                self._span = attrs.get("class", "")
            if tag == "a":
                self._cell["links"].append((attrs.get("class", ""), attrs["href"]))
            if tag == "img":
                self._cell["spark"] = attrs["src"]

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        if tag == "span":
            self._span = None

    def handle_data(self, data):
        if self._cell is not None and self._span:
            self._cell["text"][self._span] = self._cell["text"].get(self._span, "") + data.strip()


def read_page(response) -> _Cells:
    parser = _Cells()
    parser.feed(response.content.decode())
    return parser


def dashboard_cells(response) -> dict[tuple[str, str], dict]:
    """(channel code or "total", metric code) -> the cell."""
    return {(c["row"], c["attrs"]["data-metric"]): c for c in read_page(response).cells}


def heatmap_cells(response) -> dict[tuple[str, str], dict]:
    """(channel code, week start YYYY-MM-DD) -> the cell."""
    return {(c["attrs"]["data-channel"], c["attrs"]["data-week"]): c for c in read_page(response).cells}
