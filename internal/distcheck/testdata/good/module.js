define(["@grafana/data"], function (d) { return {}; });
