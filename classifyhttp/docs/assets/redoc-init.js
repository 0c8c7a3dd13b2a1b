// Starts ReDoc on this server's own OpenAPI document (see ../redoc.html).
Redoc.init("/openapi.json", { disableSearch: false, hideDownloadButton: false }, document.getElementById("redoc-container"));
