# Rebuilds geo.tsv beside it: run in a folder holding the unpacked npm packages
# @ip-location-db/asn (as asn/) and @ip-location-db/asn-country (as asnc/). See docs/demo.md.
# Builds internal/demo/geo.tsv (iptoasn TSV) from @ip-location-db/asn and @ip-location-db/asn-country.
import csv, bisect, ipaddress, random
ASNS = [4134,4837,9808,45090,37963,132203,4812,135377,45102,
        14061,16509,14618,396982,8075,63949,20473,398324,6939,7922,7018,701,20115,53667,10439,36352,46606,174,31898,
        16276,24940,51167,9009,60781,12876,8560,3320,3215,12389,49505,200019,202425,44477,3352,3269,15895,8359,6830,
        5610,2852,25192,16019,5588,
        4766,9318,45899,7552,9829,55836,45609,7713,4713,9121,58224,17557,18403,9299,4788,38266,
        28573,18881,8151,7303,27699,8452,36947]
V6 = {4134,4837,14061,16509,16276,24940,51167,63949,20473,5610,2852,25192,4766,45899,28573,3320,7922,9808,37963}
def load_cc(path):
    starts, ends, ccs = [], [], []
    for r in csv.reader(open(path)):
        starts.append(int(ipaddress.ip_address(r[0]))); ends.append(int(ipaddress.ip_address(r[1]))); ccs.append(r[2])
    return starts, ends, ccs
def cc_of(tab, ip):
    s, e, c = tab
    i = bisect.bisect_right(s, ip) - 1
    return c[i] if i >= 0 and e[i] >= ip else 'None'
out = []
for fam, path, ccpath, per in (('4','asn/asn-ipv4.csv','asnc/asn-country-ipv4.csv',5),('6','asn/asn-ipv6.csv','asnc/asn-country-ipv6.csv',1)):
    tab = load_cc(ccpath)
    by = {}
    for r in csv.reader(open(path)):
        a = int(r[2])
        if a in ASNS and (fam == '4' or a in V6):
            s, e = int(ipaddress.ip_address(r[0])), int(ipaddress.ip_address(r[1]))
            by.setdefault(a, []).append((e - s, r[0], r[1], r[3], s))
    rnd = random.Random(7)
    for a in ASNS:
        rs = by.get(a, [])
        if not rs: continue
        # A mix of big and ordinary ranges, reproducibly.
        rs.sort(key=lambda x: (-x[0], x[1]))
        pick = rs[:2] + rnd.sample(rs[2:], min(per - 2, max(0, len(rs) - 2))) if per > 1 else rs[:1]
        for size, s, e, name, si in sorted(pick, key=lambda x: x[4]):
            out.append((fam, si, s, e, a, cc_of(tab, si), name.replace('\t', ' ')))
out.sort(key=lambda x: (x[0], x[1]))
with open('geo.tsv', 'w') as f:
    f.write('# Demo prefixes in the iptoasn TSV format (range_start, range_end, AS_number, country_code, AS_description).\n')
    f.write('# Extracted from @ip-location-db/asn and @ip-location-db/asn-country 2.3.2026061719 (npm):\n')
    f.write('# IP to ASN data by RouteViews (https://www.routeviews.org) and DB-IP (https://db-ip.com), CC BY 4.0;\n')
    f.write('# country data CC0. A handful of ranges per well-known autonomous system, for the demo only.\n')
    for fam, si, s, e, a, cc, name in out:
        f.write(f'{s}\t{e}\t{a}\t{cc}\t{name}\n')
print(len(out))
