#!/usr/bin/env bash
# Extracts public house-sales datasets that Debian ships inside R packages, as CSV files for the accuracy bench and
# for checking the tool's defaults on data that is not King County. Nothing is downloaded except Debian packages.
#
#   sudo apt-get install -y r-cran-modeldata r-cran-aer   # once (as root: this script installs them if missing)
#   scripts/extract-debian-datasets.sh [OUT_DIR]           # default bench/out/datasets
#
# Sources and licences:
# - ames.csv: the Ames, Iowa housing data (2,930 sales 2006-2010) of De Cock (2011), "Ames, Iowa: Alternative to the
#   Boston Housing Data as an End of Semester Regression Project", Journal of Statistics Education 19(3), as
#   packaged by the R package modeldata (tidymodels; MIT licence), Debian package r-cran-modeldata. A sale_date
#   column (the 1st of the sale month) is built from Year_Sold and Mo_Sold.
# - sacramento.csv: 932 Sacramento, CA residential sales over five days in May 2008 (SpatialKey sample data), as
#   packaged by modeldata (MIT), r-cran-modeldata.
# - windsor.csv: 546 house sales in Windsor, Ontario, 1987 (Anglin & Gencay 1996, Journal of Applied Econometrics),
#   as packaged by the R package AER (GPL-2 | GPL-3), Debian package r-cran-aer (data set HousePrices).
# Their YAML files are in config/datasets/.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench/out/datasets}"
mkdir -p "$out"

missing=()
[ -d /usr/lib/R/site-library/modeldata ] || missing+=(r-cran-modeldata)
[ -d /usr/lib/R/site-library/AER ] || missing+=(r-cran-aer)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "extract-debian-datasets: needs the Debian packages ${missing[*]} (apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

Rscript --vanilla - "$out" <<'R'
out <- commandArgs(trailingOnly = TRUE)[1]
suppressPackageStartupMessages(library(modeldata))
data(ames, package = "modeldata")
data(Sacramento, package = "modeldata")
load(file.path(system.file(package = "AER"), "data", "HousePrices.rda"))
a <- as.data.frame(ames)
a$sale_date <- sprintf("%04d-%02d-01", as.integer(a$Year_Sold), as.integer(a$Mo_Sold))
a$id <- seq_len(nrow(a))
write.csv(a, file.path(out, "ames.csv"), row.names = FALSE, na = "")
s <- as.data.frame(Sacramento)
s$zip <- sub("^z", "", as.character(s$zip))
write.csv(s, file.path(out, "sacramento.csv"), row.names = FALSE, na = "")
write.csv(HousePrices, file.path(out, "windsor.csv"), row.names = FALSE, na = "")
cat(sprintf("%s: ames %d rows, sacramento %d rows, windsor %d rows\n", out, nrow(a), nrow(s), nrow(HousePrices)))
R
